"""Segmentation on streams built from real recorded UI logs (bench/data/uilogs), and the promise
that value links never leave memory: no pseudonym and no raw value in any output."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from bench.mining_real import read_stream, score
from bench.uilog_streams import Kind, StreamSpec, build, instances_of

from veil.mining.actionlogger import read_action_logger
from veil.mining.cli import MineOptions, mine
from veil.mining.links import Linker, default_linker
from veil.mining.segment import segment
from veil.mining.xes import pm4py_available


@pytest.mark.parametrize(
    ("types", "kind", "least"),
    [
        (("Reimbursement", "StudentRecord"), Kind.SEQUENTIAL, 0.95),
        (("Reimbursement", "StudentRecord"), Kind.STRONG, 0.95),
        # CopyPaste retries its log-in inside one instance: the weakest case, kept in view.
        (("StudentRecord", "CopyPaste"), Kind.INTERLEAVED, 0.85),
    ],
)
def test_real_streams_are_segmented_into_their_instances(
    types: tuple[str, ...], kind: Kind, least: float
) -> None:
    stream = build(StreamSpec(types=types, kind=kind, seed=4, instances=8, noise=0.1))
    events = read_stream(stream)
    result = score(stream, events, segment(events), 1.0)
    assert result.ari >= least
    assert result.f1 >= least
    assert result.ari > result.pause_ari and result.ari > result.chunks_ari


def test_a_copy_and_its_paste_share_a_pseudonym_and_nothing_else_does() -> None:
    first = instances_of("Reimbursement")[0].rows
    copy = next(r for r in first if r["eventType"] == "copyCell")
    paste = next(r for r in first if r["eventType"] == "paste")
    link = Linker(b"k" * 32)
    assert set(link(copy["content"])) & set(link(paste["content"]))
    assert not set(link(copy["content"])) & set(Linker(b"j" * 32)(paste["content"]))
    assert "k" * 8 not in repr(link)
    assert link("+61 039 689 9324") and set(link("+61 039 689 9324")) & set(link("039-689-9324"))
    assert link("") == () and link("<email>") == ()


def test_outputs_carry_no_pseudonym_and_no_value(tmp_path: Path) -> None:
    stream = build(
        StreamSpec(types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=2, instances=6)
    )
    log = tmp_path / "stream.csv"
    stream.frame().to_csv(log, index=False)
    out = tmp_path / "out"
    mine([log], out, MineOptions(xes=pm4py_available()))
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert {"report.html", "events.csv"} <= set(texts)
    # What the person copied and pasted: names, e-mails, phones, addresses, account numbers.
    moved = [r["content"] for r in stream.rows if r["eventType"] in {"copyCell", "paste"}]
    values = {v for v in moved if len(v) >= 6 and not (v.isdigit() and len(v) < 6)}
    tokens = {t for v in values for t in default_linker()(v)}
    assert len(values) > 40 and len(tokens) > 40
    for name, text in texts.items():
        assert [v for v in values if v in text] == [], name
        assert [t for t in tokens if t in text] == [], name
    rows = list(csv.DictReader(io.StringIO(texts["events.csv"])))
    assert rows and all(r["case"] for r in rows if r["noise"] == "False")


def test_several_users_and_no_user_column(tmp_path: Path) -> None:
    spec = StreamSpec(
        types=("Reimbursement", "StudentRecord"), kind=Kind.INTERLEAVED, seed=2, instances=6, users=3
    )
    stream = build(spec)
    events = read_stream(stream)
    assert len({e.user for e in events}) == 3
    assert score(stream, events, segment(events), 1.0).ari >= 0.95
    # The same work with the user column removed: one person's stream, still segmented.
    single = build(StreamSpec(types=spec.types, kind=Kind.INTERLEAVED, seed=2, instances=6))
    log = tmp_path / "nouser.csv"
    single.frame().drop(columns=["userID"]).to_csv(log, index=False)
    anonymous = read_action_logger(log)
    assert {e.user for e in anonymous} == {"user-1"}
    assert score(single, anonymous, segment(anonymous), 1.0).ari >= 0.95
