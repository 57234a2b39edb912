"""What an attacker with write access to the ledger database (and no key) does, for the tests."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def run_sql(url: str, *statements: tuple[str, dict[str, object]]) -> None:
    """Run raw statements in one transaction, behind the ledger's back."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def entry_body(url: str, seq: int) -> bytes:
    """The stored body of entry `seq`, as the database holds it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        body = conn.execute(
            text("SELECT body FROM veil_ledger_entries WHERE seq = :s"), {"s": seq}
        ).scalar_one()
    engine.dispose()
    return bytes(body)
