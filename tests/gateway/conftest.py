"""Fixtures for gateway tests: a real analyzer, a verifier twin, a real ledger in a temporary SQLite
file, and a complete fake destination policy."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from veil.audit.store import Ledger
from veil.detect.analyzer import Analyzer
from veil.detect.registry import default_analyzer
from veil.gateway.gateway import Gateway
from veil.gateway.policy import Destination, EgressPolicy
from veil.gateway.state import SendStore
from veil.models import Finding, Pixels
from veil.verify.base import Verdict, Verifier
from veil.verify.payload import ImagePart, PayloadPart, SanitizedPayload, TextPart, clear_payload

TERMS: dict[str, Any] = {
    "legal_basis": "GDPR Art. 6(1)(f); SCC 2021/914 module 2",
    "country": "IE",
    "recipient": "Example AI Ltd.",
    "data_categories": ["sanitized-screen-images", "sanitized-screen-text", "ui-events"],
    "retention_days": 0,
    "no_training": True,
    "frames_per_hour": 100,
    "bytes_per_day": 10_000_000,
}


class CleanVerifier(Verifier):
    """Finds nothing; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        self.calls += 1
        return Verdict(findings=(), lines=())


class FindingVerifier(Verifier):
    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        return Verdict(findings=(Finding("phone", (), "fake", 1.0, "0" * 32, frame_index),), lines=())


def png(width: int = 64, height: int = 32, shade: int = 200) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), shade, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def destination(name: str = "remote", provider: str = "fake", **overrides: Any) -> Destination:
    data: dict[str, Any] = {
        "name": name,
        "provider": provider,
        "base_url": "http://127.0.0.1:9/v1",
        "model": "test-model",
        **TERMS,
    }
    data.update(overrides)
    return Destination.model_validate({k: v for k, v in data.items() if v is not None})


def layer_text(n: int = 2) -> str:
    rows = [
        {"frame": i, "t": float(i), "window": "Orders", "lines": [f"Order ORD-{i}", "Phone: <phone>"]}
        for i in range(n)
    ]
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)


def clean_parts(images: int = 1) -> list[PayloadPart]:
    parts: list[PayloadPart] = [
        TextPart("instruction", "Describe step by step what the person did."),
        TextPart("text-layer", layer_text()),
        TextPart("window-titles", "Orders - CRM"),
    ]
    parts += [ImagePart(f"frame-{i:06d}", png(shade=100 + i)) for i in range(images)]
    return parts


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return default_analyzer()


@pytest.fixture
def make_payload(analyzer: Analyzer) -> Any:
    def make(images: int = 1, extra: str = "") -> SanitizedPayload:
        parts = clean_parts(images)
        if extra:
            parts.append(TextPart("note", extra))
        return clear_payload(parts, analyzer, CleanVerifier())

    return make


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def ledger(ledger_url: str, tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(ledger_url, tmp_path / "keys") as led:
        yield led


@pytest.fixture
def store(ledger_url: str) -> Iterator[SendStore]:
    s = SendStore.open(ledger_url)
    yield s
    s.close()


@pytest.fixture
def no_kill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Isolate the kill switch from the host: no env var, a kill file path inside tmp."""
    monkeypatch.delenv("VEIL_EGRESS_KILL", raising=False)
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "egress.kill"


@pytest.fixture
def make_gateway(ledger: Ledger, store: SendStore, analyzer: Analyzer, no_kill: Path) -> Any:
    def make(
        *dests: Destination,
        providers: dict[str, Any] | None = None,
        verifier: Verifier | None = None,
        **policy: Any,
    ) -> Gateway:
        egress = EgressPolicy(destinations=dests or (destination(),), **policy)
        # The fake verifier by default; tests of what images may leave pass the real one.
        verifier = verifier or CleanVerifier()
        return Gateway(
            egress, ledger, store, analyzer, providers=providers, sleep=lambda _s: None, verifier=verifier
        )

    return make


def egress_entries(ledger: Ledger, tmp_path: Path) -> list[dict[str, Any]]:
    """The egress events as an auditor reads them, from a ledger export."""
    folder = ledger.export(tmp_path / f"export-{uuid.uuid4().hex}")
    rows = [json.loads(line) for line in (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["kind"].startswith("egress")]
