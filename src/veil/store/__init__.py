"""Where Veil keeps its state on this host: keys, ledger database, objects."""
