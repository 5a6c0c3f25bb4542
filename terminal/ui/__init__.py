"""Screens: turning terminal state and payment codes into pixels."""
