"""`veil mine --describe`: procedures through the egress gateway, locally (no network) and against
the loopback OpenAI endpoint; a value that slipped into a step label is blocked and never leaves."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gateway.conftest import TERMS
from tests.gateway.loopback import ANSWER, LoopbackServer
from veil.__main__ import main
from veil.audit.store import Ledger
from veil.detect.analyzer import Analyzer
from veil.detect.registry import default_analyzer
from veil.exceptions import EgressBlocked
from veil.gateway.services import Services
from veil.mining import bounded
from veil.mining import cli as mining_cli
from veil.mining.base import Action, Candidate, Step
from veil.mining.bounded_rank import Ranked, rank_instances
from veil.mining.cli import MineOptions, mine
from veil.mining.describe import DescribeOptions, describe, prepare
from veil.mining.routines import rank_candidates

Log = tuple[Path, list[dict[str, str]]]
KEY_ENV = "VEIL_TEST_MINE_KEY"
# Synthetic values that could slip into a label.
LEAKS = {"email": "mina.tanaka@example.com", "phone": "010-2345-6789"}


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return default_analyzer()


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keep the kill switch, keys and default ledger away from the host."""
    monkeypatch.delenv("VEIL_EGRESS_KILL", raising=False)
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(KEY_ENV, "sk-mine-test")
    return tmp_path / "home"


@pytest.fixture
def services(tmp_path: Path, analyzer: Analyzer) -> Services:
    return Services(
        analyzer=analyzer, ledger_url=f"sqlite:///{tmp_path / 'ledger.db'}", key_dir=tmp_path / "k"
    )


def _policy(tmp_path: Path, url: str) -> Path:
    dest = {"name": "lab", "provider": "openai", "base_url": url, "model": "m", "api_key_env": KEY_ENV}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"egress": {"destinations": [{**dest, **TERMS}]}}), encoding="utf-8")
    return path


def _egress(services: Services, tmp_path: Path) -> list[tuple[str, str]]:
    assert services.ledger_url is not None and services.key_dir is not None
    with Ledger.open(services.ledger_url, services.key_dir) as ledger:
        folder = ledger.export(tmp_path / "export")
    rows = [json.loads(line) for line in (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(r["kind"], r["event"]["payload_sha256"]) for r in rows if r["kind"].startswith("egress")]


def _leaky(candidate: Candidate, value: str) -> Candidate:
    first = candidate.steps[0]
    return replace(candidate, steps=(replace(first, target=f"Reply to {value}"), *candidate.steps[1:]))


def test_local_procedures_in_report_and_json(
    tmp_path: Path, small_log: Log, home: Path, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*_args: object) -> None:
        raise AssertionError("the local provider must not open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    options = MineOptions(xes=False, describe=DescribeOptions())
    summary = mine([small_log[0]], tmp_path / "out", options, services=services)
    assert summary.candidates and summary.procedures_file == tmp_path / "out" / "procedures.json"
    stored = json.loads(summary.procedures_file.read_text(encoding="utf-8"))["procedures"]
    html = summary.report.read_text(encoding="utf-8")
    assert [p["type_id"] for p in stored] == [c.type_id for c in summary.candidates]
    for candidate, proc in zip(summary.candidates, stored, strict=True):
        assert (proc["status"], proc["destination"], proc["ledger_intent"]) == ("described", "local", "")
        lines = proc["procedure"].splitlines()
        # A numbered procedure, one line per step, each naming its step's target.
        assert len(lines) == len(candidate.steps)
        for n, (line, step) in enumerate(zip(lines, candidate.steps, strict=True), start=1):
            assert line.startswith(f"{n}. ") and step.target in line
        assert lines[0] in html.replace("&#39;", "'")
    assert not (home / "ledger.sqlite3").exists()  # nothing left, so nothing to record


def test_each_remote_request_has_its_ledger_egress_entries(
    tmp_path: Path, small_log: Log, home: Path, services: Services
) -> None:
    with LoopbackServer() as server:
        options = MineOptions(
            xes=False, describe=DescribeOptions("lab", _policy(tmp_path, server.url + "/v1"))
        )
        summary = mine([small_log[0]], tmp_path / "out", options, services=services)
        requests = list(server.requests)
    assert len(requests) == len(summary.candidates) == len(summary.procedures) >= 2
    sent = [r.payload_sha256() for r in requests]
    assert [p.payload_sha256 for p in summary.procedures] == sent
    assert all(p.status == "described" and p.text == ANSWER and p.intent_id for p in summary.procedures)
    assert _egress(services, tmp_path) == [
        (kind, sha) for sha in sent for kind in ("egress-intent", "egress-completed")
    ]
    # What left is the instruction and the steps, as text only.
    assert {tuple(p.role for p in r.parts()) for r in requests} == {("instruction", "steps")}
    html = summary.report.read_text(encoding="utf-8")
    assert html.count(ANSWER.splitlines()[0]) == len(summary.candidates)


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_value_in_a_label_is_blocked_and_never_reaches_the_server(
    tmp_path: Path, small_log: Log, home: Path, services: Services, kind: str
) -> None:
    from veil.mining.cli import load_events
    from veil.mining.segment import segment

    events, _ = load_events([small_log[0]])
    clean = rank_candidates(events, segment(events))[:2]
    leaky = _leaky(clean[0], LEAKS[kind])
    with LoopbackServer() as server:
        plan = prepare(DescribeOptions("lab", _policy(tmp_path, server.url + "/v1")))
        procedures = describe([leaky, *clean], {}, plan, services)
        requests = list(server.requests)
    assert [p.status for p in procedures] == ["blocked", "described", "described"]
    assert kind in procedures[0].reason and LEAKS[kind] not in procedures[0].shown()
    assert procedures[0].shown().startswith("blocked by the egress gateway: ")
    assert len(requests) == 2
    digits = re.sub(r"\D", "", LEAKS[kind])
    for request in requests:
        assert LEAKS[kind].encode() not in request.body
        assert kind != "phone" or digits.encode() not in re.sub(rb"\D", b"", request.body)
    assert [sha for kind_, sha in _egress(services, tmp_path) if kind_ == "egress-intent"] == [
        r.payload_sha256() for r in requests
    ]


def test_cli_exit_code_says_a_candidate_was_blocked(
    tmp_path: Path, small_log: Log, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ranked(*args: Any) -> Sequence[Candidate]:
        first, *rest = rank_candidates(*args)
        return [_leaky(first, LEAKS["email"]), *rest]

    def ranked_bounded(*args: Any) -> Ranked:
        found = rank_instances(*args)
        first, *rest = found.candidates
        return replace(found, candidates=[_leaky(first, LEAKS["email"]), *rest])

    monkeypatch.setattr(mining_cli, "rank_candidates", ranked)  # in memory
    monkeypatch.setattr(bounded, "rank_instances", ranked_bounded)  # Action Logger CSVs without XES
    out = tmp_path / "out"
    code = main(["mine", str(small_log[0]), "-o", str(out), "--no-xes", "--describe"])
    assert code == EgressBlocked.exit_code
    html = (out / "report.html").read_text(encoding="utf-8")
    stored = json.loads((out / "procedures.json").read_text(encoding="utf-8"))["procedures"]
    assert [p["status"] for p in stored][:2] == ["blocked", "described"]
    assert "blocked by the egress gateway: text part &#39;steps&#39; contains personal data" in html
    # The injected label is in the report's own step list (that is local); no procedure carries it.
    blocks = re.findall(r'<div class="procedure[^"]*">(.*?)</div>', html, re.S)
    assert len(blocks) == len(stored)
    for text in (*blocks, json.dumps(stored)):
        assert LEAKS["email"] not in text


def test_the_local_writer_reads_only_the_cleared_steps(analyzer: Analyzer, home: Path) -> None:
    step = Step("Excel", Action.TYPE, "E-mail", "<email>")
    candidate = Candidate(
        type_id=0, name="n", steps=(step, Step("", Action.CLICK, "Save")), variants=(), instances=3,
        median_seconds=1.0, hours_per_week=1.0, users=2, apps=("Excel",), score=0.5, score_parts=(),
        hours_saved_per_month=1.0,
    )  # fmt: skip
    (proc,) = describe(
        [candidate],
        {0: {("Excel", "E-mail"): "Orders.xlsx"}},
        prepare(DescribeOptions()),
        Services(analyzer=analyzer),
    )
    assert proc.text == "1. In Excel ('Orders.xlsx'), type <email> into 'E-mail'.\n2. Click 'Save'."
