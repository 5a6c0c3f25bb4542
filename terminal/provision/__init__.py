"""Provisioning a terminal: checks, system setup, the device key and enrollment, installed files."""
