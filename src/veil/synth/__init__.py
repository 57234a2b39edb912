"""Synthetic screens (placeholder during development)."""
