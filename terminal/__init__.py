"""QR payment terminal kit for Incheon e-eum merchants."""

__version__ = "0.1.0"
