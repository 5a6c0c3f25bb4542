"""The ledger: the only writer of the terminal's SQLite database (journal, outbox, seen tokens)."""
