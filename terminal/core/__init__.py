"""The pure core: money, benefits, payment code formats and records. No I/O, no hardware."""
