"""Detectors: text in, typed character spans out — never the value."""
