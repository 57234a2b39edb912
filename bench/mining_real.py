"""Task-mining bench on real UI logs: `veil mine`'s segmentation against naive baselines.

Streams come from `bench.uilog_streams` (real single-task logs merged one after another or
interleaved, with and without 10 % noise, several seeds). For each stream kind the table gives
the adjusted Rand index over task instances (noise events left out of the score) and the
weighted F1 over task types (predicted types matched one-to-one to true ones), the minimum and
mean over seeds, beside two baselines scored the same way: fixed chunks of the true mean
instance length (an oracle length) and a cut at every pause longer than 5 s.

Run: `.venv/bin/python -m bench.mining_real [--seeds 5] [--json out.json]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score

from bench.uilog_streams import LABELLED, Kind, Stream, StreamSpec, build
from veil.mining.actionlogger import read_action_logger
from veil.mining.base import Segmentation, UIEvent
from veil.mining.segment import segment

PAUSE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Score:
    ari: float
    f1: float
    chunks_ari: float
    pause_ari: float
    events: int
    seconds: float


def type_f1(pred: Sequence[object], truth: Sequence[str]) -> float:
    """Weighted F1 after matching predicted types one-to-one to true ones (Hungarian)."""
    p_labels = sorted(set(pred), key=str)
    t_labels = sorted(set(truth))
    table = np.zeros((len(p_labels), len(t_labels)))
    p_index = {p: k for k, p in enumerate(p_labels)}
    t_index = {t: k for k, t in enumerate(t_labels)}
    for p, t in zip(pred, truth, strict=True):
        table[p_index[p], t_index[t]] += 1
    rows, cols = linear_sum_assignment(-table)
    mapping = {p_labels[r]: t_labels[c] for r, c in zip(rows, cols, strict=True)}
    predicted = [mapping.get(p, "unmatched") for p in pred]
    return float(f1_score(list(truth), predicted, average="weighted"))


def _chunks(n: int, size: int) -> list[int]:
    return [k // max(size, 1) for k in range(n)]


def pause_cases(events: Sequence[UIEvent]) -> list[int]:
    """The naive baseline: a new case at every pause longer than `PAUSE_SECONDS`."""
    out, case = [], 0
    for k, e in enumerate(events):
        if k and (e.timestamp - events[k - 1].timestamp).total_seconds() > PAUSE_SECONDS:
            case += 1
        out.append(case)
    return out


def read_stream(stream: Stream) -> list[UIEvent]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.csv"
        stream.frame().to_csv(path, index=False)
        events = read_action_logger(path)
    if len(events) != len(stream.rows):
        raise RuntimeError("the importer lost events")
    return events


def score(stream: Stream, events: Sequence[UIEvent], seg: Segmentation, seconds: float) -> Score:
    task = [k for k, t in enumerate(stream.tasks) if t]
    truth_inst = [stream.instances[k] for k in task]
    ari = adjusted_rand_score(truth_inst, [seg.cases[k] for k in task])
    f1 = type_f1([seg.types[k] for k in task], [stream.tasks[k] for k in task])
    mean_len = round(len(task) / len(set(truth_inst)))
    chunks = _chunks(len(events), mean_len)
    pauses = pause_cases(events)
    return Score(
        ari=float(ari),
        f1=f1,
        chunks_ari=float(adjusted_rand_score(truth_inst, [chunks[k] for k in task])),
        pause_ari=float(adjusted_rand_score(truth_inst, [pauses[k] for k in task])),
        events=len(events),
        seconds=seconds,
    )


def run(spec: StreamSpec) -> Score:
    stream = build(spec)
    events = read_stream(stream)
    t0 = time.perf_counter()
    seg = segment(events)
    return score(stream, events, seg, time.perf_counter() - t0)


def specs(seeds: int, kinds: Sequence[Kind], noise: Sequence[float]) -> dict[str, list[StreamSpec]]:
    """Per row of the table, its streams: every pair and the triple of labelled logs, per seed."""
    combos = [c for n in (2, 3) for c in itertools.combinations(LABELLED, n)]
    out: dict[str, list[StreamSpec]] = {}
    for kind, share in itertools.product(kinds, noise):
        name = f"{kind}" + (f", {share:.0%} noise" if share else "")
        out[name] = [
            StreamSpec(types=combo, kind=kind, seed=seed, noise=share)
            for seed in range(1, seeds + 1)
            for combo in combos
        ]
    return out


def _row(name: str, scores: list[Score]) -> dict[str, object]:
    def agg(key: str) -> tuple[float, float]:
        values = [getattr(s, key) for s in scores]
        return round(min(values), 3), round(statistics.fmean(values), 3)

    events = sum(s.events for s in scores)
    return {
        "stream": name,
        "streams": len(scores),
        "ari": agg("ari"),
        "f1": agg("f1"),
        "chunks_ari": agg("chunks_ari"),
        "pause_ari": agg("pause_ari"),
        "events/s": round(events / max(sum(s.seconds for s in scores), 1e-9)),
    }


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        "| stream kind | streams | Veil ARI min / mean | Veil type F1 min / mean "
        "| fixed chunks ARI mean | pause > 5 s ARI mean | Veil events/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ari, f1 = r["ari"], r["f1"]
        chunks, pause = r["chunks_ari"], r["pause_ari"]
        assert isinstance(ari, tuple) and isinstance(f1, tuple)
        assert isinstance(chunks, tuple) and isinstance(pause, tuple)
        print(
            f"| {r['stream']} | {r['streams']} | {ari[0]:.3f} / {ari[1]:.3f} | {f1[0]:.3f} / {f1[1]:.3f} "
            f"| {chunks[1]:.3f} | {pause[1]:.3f} | {r['events/s']:,} |"
        )


def table(seeds: int, kinds: Sequence[Kind], verbose: bool = False) -> list[dict[str, object]]:
    """Score every stream kind (with and without noise) and print the table."""
    rows = []
    for name, group in specs(seeds, kinds, (0.0, 0.1)).items():
        scores = []
        for spec in group:
            s = run(spec)
            scores.append(s)
            if verbose:
                print(f"  {name} {'+'.join(spec.types)} seed {spec.seed}: ARI {s.ari:.3f} F1 {s.f1:.3f}")
        rows.append(_row(name, scores))
    print_table(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--kind", choices=[k.name.lower() for k in Kind], action="append")
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per stream")
    args = parser.parse_args()
    kinds = [Kind[k.upper()] for k in args.kind] if args.kind else list(Kind)
    rows = table(args.seeds, kinds, args.verbose)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
