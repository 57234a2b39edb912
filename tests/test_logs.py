"""The logging filter refuses records that carry personal data, at every level."""

from __future__ import annotations

import io
import logging

import pytest

from veil import logs

VALUES = [
    "010-2345-6789",
    "alice.martin@example.com",
    "4111 1111 1111 1111",
    "FR76 3000 6000 0112 3456 7890 189",
]


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    handler = logs.configure(logging.DEBUG, stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize("value", VALUES)
def test_value_in_message_is_withheld(captured: io.StringIO, value: str) -> None:
    logging.getLogger("veil.test").debug("read line %s on frame %d", value, 7)
    out = captured.getvalue()
    assert value not in out
    assert "withheld" in out


def test_value_in_exception_is_withheld(captured: io.StringIO) -> None:
    try:
        raise ValueError(f"cannot parse {VALUES[0]}")
    except ValueError:
        logging.getLogger("veil.test").exception("parse failed")
    out = captured.getvalue()
    assert VALUES[0] not in out
    assert "withheld" in out


def test_clean_record_passes_unchanged(captured: io.StringIO) -> None:
    logging.getLogger("veil.test").info("frame %d: %d findings", 12, 3)
    assert "frame 12: 3 findings" in captured.getvalue()


def test_record_is_withheld_when_the_detectors_fail(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def analyze(self, text: str, context: str = "") -> list[object]:
            raise RuntimeError("detector down")

    monkeypatch.setattr(logs, "_analyzer", Broken())
    logging.getLogger("veil.test").warning("customer %s", "Quill Robinette")
    out = captured.getvalue()
    assert "Quill Robinette" not in out and "withheld" in out
    assert "Logging error" not in out
