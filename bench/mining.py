"""Task-mining bench. First, the measure that counts: streams built from real recorded UI logs
(`bench.mining_real`: ARI and type F1 beside the naive baselines). Second, our own generator of
planted routines in interleaved UI logs with noise (secondary: easy by construction, routines
share steps since 2026-12): ARI, type F1, and precision/recall of the planted routines among the
top candidates. Run: `.venv/bin/python -m bench.mining [--real-seeds 3] [--seeds 5]`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score

from bench import mining_real
from bench.uilog_streams import Kind
from veil.mining.actionlogger import read_action_logger
from veil.mining.base import Candidate, Segmentation, UIEvent
from veil.mining.routines import rank_candidates
from veil.mining.segment import segment
from veil.mining.synth import NOISE_TYPE, ROUTINES, LogSpec, generate_log, write_log


@dataclass(frozen=True, slots=True)
class Scores:
    ari: float
    ari_all: float  # noise events counted, each its own instance
    f1: float
    precision: float
    recall: float
    top: int
    events: int
    noise_share: float


def _truth(events: Sequence[UIEvent]) -> tuple[list[str], list[str]]:
    types = [e.extra_value("truth.type") or "" for e in events]
    inst = [e.extra_value("truth.instance") or "" for e in events]
    return types, inst


def type_mapping(pred: Sequence[int], truth: Sequence[str]) -> dict[int, str]:
    """Predicted type -> planted type, one-to-one, maximising agreement (Hungarian)."""
    p_labels = sorted(set(pred))
    t_labels = sorted(set(truth))
    table = np.zeros((len(p_labels), len(t_labels)))
    for p, t in zip(pred, truth, strict=True):
        table[p_labels.index(p), t_labels.index(t)] += 1
    rows, cols = linear_sum_assignment(-table)
    return {p_labels[r]: t_labels[c] for r, c in zip(rows, cols, strict=True)}


def evaluate(
    events: Sequence[UIEvent], seg: Segmentation, candidates: Sequence[Candidate], top: int
) -> Scores:
    t_types, t_inst = _truth(events)
    task = [i for i, t in enumerate(t_types) if t != NOISE_TYPE]
    ari = adjusted_rand_score([t_inst[i] for i in task], [seg.cases[i] for i in task])
    all_truth = [t_inst[i] or f"noise-{i}" for i in range(len(events))]
    all_pred = [("noise-" + str(i)) if seg.noise[i] else seg.cases[i] for i in range(len(events))]
    ari_all = adjusted_rand_score(all_truth, all_pred)
    mapping = type_mapping([seg.types[i] for i in task], [t_types[i] for i in task])
    predicted = [mapping.get(seg.types[i], "unmatched") for i in task]
    f1 = f1_score([t_types[i] for i in task], predicted, average="weighted")
    planted = {t_types[i] for i in task}
    found: set[str] = set()
    hits = 0
    for cand in candidates[:top]:
        members = Counter(
            t_types[i] for i, ty in enumerate(seg.types) if ty == cand.type_id and not seg.noise[i]
        )
        name, n = members.most_common(1)[0] if members else ("", 0)
        if name in planted and n >= 0.8 * sum(members.values()):
            hits += 1
            found.add(name)
    shown = min(top, len(candidates))
    return Scores(
        ari=float(ari),
        ari_all=float(ari_all),
        f1=float(f1),
        precision=hits / shown if shown else 0.0,
        recall=len(found) / len(planted),
        top=top,
        events=len(events),
        noise_share=1 - len(task) / len(events),
    )


def run(spec: LogSpec, top: int | None = None) -> Scores:
    with tempfile.TemporaryDirectory() as tmp:
        events = read_action_logger(write_log(generate_log(spec), Path(tmp) / "log.csv"))
    seg = segment(events)
    # R-precision by default: as many top candidates as there are planted routines.
    return evaluate(events, seg, rank_candidates(events, seg), top or len(spec.routines))


SCENARIOS: dict[str, dict[str, object]] = {
    "interleaved, 10% noise": {"noise": 0.10},
    "interleaved, 20% noise": {"noise": 0.20},
    "one routine back to back, 10% noise": {"noise": 0.10, "routines": ROUTINES[1:2], "users": 5},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real-seeds", type=int, default=3, help="seeds per real stream kind")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per generated scenario")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--instances", type=int, default=30)
    args = parser.parse_args()
    print("Real UI logs (bench/data/uilogs), Veil against naive baselines:")
    mining_real.table(args.real_seeds, list(Kind))
    print("\nGenerated logs (secondary), minimum over seeds:")
    for name, overrides in SCENARIOS.items():
        results = []
        t0 = time.perf_counter()
        for seed in range(1, args.seeds + 1):
            fields: dict[str, object] = {
                "users": args.users,
                "instances_per_user": args.instances,
                "seed": seed,
            }
            spec = LogSpec(**{**fields, **overrides})  # type: ignore[arg-type]
            results.append(run(spec))
        summary = {
            key: round(float(np.min([getattr(r, key) for r in results])), 3)
            for key in ("ari", "f1", "precision", "recall")
        }
        mean_events = int(np.mean([r.events for r in results]))
        seconds = round((time.perf_counter() - t0) / args.seeds, 2)
        print(
            json.dumps(
                {
                    "scenario": name,
                    "seeds": args.seeds,
                    "events": mean_events,
                    "min": summary,
                    "s/run": seconds,
                }
            )
        )


if __name__ == "__main__":
    main()
