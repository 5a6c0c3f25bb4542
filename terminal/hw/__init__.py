"""Hardware adapters: one small interface per device kind, each with a real and a fake backend."""
