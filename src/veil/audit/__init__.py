"""The tamper-evident ledger: RFC 9162 Merkle log with signed checkpoints (see store.py)."""

from veil.audit.store import EntryRef, Ledger, VerifyReport, default_key_dir, default_ledger_url

__all__ = ["EntryRef", "Ledger", "VerifyReport", "default_key_dir", "default_ledger_url"]
