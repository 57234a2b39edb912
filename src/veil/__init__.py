"""Veil: learn from screen recordings without personal data leaving the premises."""

__version__ = "0.1.0"
