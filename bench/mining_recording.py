"""Record -> redact -> mine on a generated screen recording: does `veil mine` find the task
instances in a recording it only sees through Veil's redacted output?

The recording (`veil.mining.synth_video`): a person copies customers from three workbooks into
three web forms, one row at a time, interleaving the tasks (a form left half filled for another
task), 1 frame per second, every value visible; with its window sidecar. It is redacted by
`veil redact` (the embedded default policy, incremental path), then `veil mine` reads the
redacted recording's text layer. Scores, against the generator's truth of every frame: the
adjusted Rand index over the derived UI events (an event belongs to the instance on screen at
its frame) and the weighted F1 of the task types, beside the same naive baselines as on UI logs
(a cut at every pause over 5 s, fixed chunks of the true mean length).

Run: `.venv/bin/python -m bench.mining_recording [--seconds 900] [--seed 5]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from bench.mining_real import pause_cases, type_f1
from veil.api import RunOptions, redact_file
from veil.mining.segment import segment
from veil.mining.synth_video import video_recording
from veil.mining.textlayer import derive_events, read_text_layer
from veil.options import Policy


def run(seconds: float, seed: int, workdir: Path) -> dict[str, float]:
    video = workdir / "work.mp4"
    truth = video_recording(video, seconds=seconds, seed=seed)
    t0 = time.perf_counter()
    redact_file(video, RunOptions(Policy(), output=workdir / "work_redacted.mp4"))
    redact_seconds = time.perf_counter() - t0
    events = derive_events(read_text_layer(workdir / "work_redacted.textlayer.jsonl"), source="work")
    seg = segment(events)
    frames = [int(e.extra_value("frame") or 0) for e in events]
    scored = [k for k, f in enumerate(frames) if truth[f]]
    true_instances = [truth[frames[k]] for k in scored]
    pauses = pause_cases(events)
    size = max(round(len(scored) / max(len(set(true_instances)), 1)), 1)
    return {
        "frames": len(truth),
        "instances": len(set(true_instances)),
        "events": len(events),
        "ari": float(adjusted_rand_score(true_instances, [seg.cases[k] or f"-{k}" for k in scored])),
        "f1": type_f1([seg.types[k] for k in scored], [t.split("#")[0] for t in true_instances]),
        "pause_ari": float(adjusted_rand_score(true_instances, [pauses[k] for k in scored])),
        "chunks_ari": float(adjusted_rand_score(true_instances, [n // size for n in range(len(scored))])),
        "redact_fps": len(truth) / redact_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(args.seconds, args.seed, Path(tmp))
    print(
        "| recording | instances | UI events derived | Veil ARI | Veil type F1 | pause > 5 s ARI "
        "| fixed chunks ARI | redaction frames/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['frames']:.0f} s, seed {args.seed} | {r['instances']:.0f} | {r['events']:.0f} "
        f"| {r['ari']:.3f} | {r['f1']:.3f} | {r['pause_ari']:.3f} | {r['chunks_ari']:.3f} "
        f"| {r['redact_fps']:.2f} |"
    )


if __name__ == "__main__":
    main()
