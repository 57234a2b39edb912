"""Issue #14: `veil mine --describe` writes its egress entries to the ledger the policy names
(`ledger.url`, `ledger.key_dir`, `ledger.witnesses`), not to the Veil home's default ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.gateway.conftest import TERMS
from tests.gateway.loopback import LoopbackServer
from veil.__main__ import main
from veil.audit.store import Ledger

KEY_ENV = "VEIL_TEST_MINE_KEY"


def _policy(tmp_path: Path, url: str, ledger: dict[str, object]) -> Path:
    dest = {"name": "lab", "provider": "openai", "base_url": url, "model": "m", "api_key_env": KEY_ENV}
    path = tmp_path / "policy.yaml"
    data = {"egress": {"destinations": [{**dest, **TERMS}]}, "ledger": ledger}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("VEIL_EGRESS_KILL", raising=False)
    monkeypatch.delenv("VEIL_LEDGER_KEY_DIR", raising=False)
    monkeypatch.delenv("VEIL_LEDGER_SIGNER", raising=False)
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(KEY_ENV, "sk-mine-test")
    return tmp_path / "home"


def test_describe_uses_the_policy_ledger(
    tmp_path: Path, small_log: tuple[Path, list[dict[str, str]]], home: Path
) -> None:
    db, keys = tmp_path / "policy-ledger.sqlite3", tmp_path / "policy-keys"
    with LoopbackServer() as server:
        policy = _policy(tmp_path, server.url + "/v1", {"url": f"sqlite:///{db}", "key_dir": str(keys)})
        code = main(
            [
                *("mine", str(small_log[0]), "-o", str(tmp_path / "out"), "--no-xes"),
                *("--describe", "--provider", "lab", "--policy", str(policy)),
            ]
        )
        sent = len(server.requests)
    assert code == 0 and sent >= 2
    assert not (home / "ledger.sqlite3").exists() and not (home / "ledger-keys").exists()
    with Ledger.open(f"sqlite:///{db}", keys) as ledger:
        assert ledger.verify().ok
        folder = ledger.export(tmp_path / "export")
    rows = [json.loads(line) for line in (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["kind"] for r in rows] == ["egress-intent", "egress-completed"] * sent


def test_the_policy_witnesses_and_signer_reach_the_gateway(tmp_path: Path) -> None:
    from veil.audit.cosign import load_or_create_witness
    from veil.gateway.services import Services
    from veil.options import Policy

    vkey = load_or_create_witness(tmp_path / "witness", None).verifier.vkey
    policy = Policy.model_validate(
        {
            "ledger": {
                "url": "sqlite:///policy.db",
                "signer": "unix:/run/signer/sock",
                "witnesses": [{"url": "http://witness.example:7380", "vkey": vkey}],
            }
        }
    )
    services = Services().with_policy(policy)
    assert services.ledger_url == "sqlite:///policy.db" and services.signer == Path("/run/signer/sock")
    assert [(w.url, w.verifier.vkey) for w in services.witnesses] == [("http://witness.example:7380", vkey)]
    given = Services(ledger_url="sqlite:///given.db").with_policy(policy)  # what a caller set wins
    assert given.ledger_url == "sqlite:///given.db" and given.witnesses == services.witnesses
