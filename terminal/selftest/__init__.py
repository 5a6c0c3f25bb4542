"""`qr-terminal selftest`: every check a technician needs to call a terminal healthy."""
