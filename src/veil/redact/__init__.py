"""Redactors: paint over findings (solid fill with a margin, never blur)."""
