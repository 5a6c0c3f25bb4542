"""Sync: the only code that sends the outbox and talks to the platform (client, transport,
errors, upload, worker, keys, trusted time, pushed configuration)."""
