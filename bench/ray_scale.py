"""Scale-out benchmark: the local worker pool against Ray with 1 and 2 actors, and a simulated
two-node Ray cluster, on the same recordings in the same run.

    .venv/bin/python -m bench.ray_scale [--seconds S] [--recordings N] [--segment F] [--json PATH]

Generates N office-work recordings (`veil.synth.office`, 1280x720, 5 fps, S seconds each) and
redacts each with `veil.api.redact_file` (embedded policy, ledger off) four ways, each in a child
process of its own: the local pool with 2 worker processes; Ray (a local Ray started for the run)
with 1 actor and with 2 actors; and Ray on a cluster of two worker nodes of one CPU each started
by `ray.cluster_utils.Cluster` on this one host. The last is a SIMULATION of several machines: the
nodes share this host's two cores and memory, objects cross between nodes through Ray's object
manager over loopback; it shows the mechanics and the overhead, not the speed of real machines.
Reported per configuration: frames/s (wall, Ray's start included, and without it), the driver's
peak RSS, the largest worker's or actor's peak RSS, whether every output (pixels, report frames,
text layer) equals the local pool's; and Ray's overhead per segment: the round trip of an empty
call to an actor, the transfer of a segment's result, and (wall time of Ray with 2 actors minus
the local pool's, start excluded) divided by the segments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.rss import own_peak_rss_mb

CONFIGS = ("local-2", "ray-1", "ray-2", "cluster-2x1")


def _digest(output: Path) -> str:
    """A hash of what the run produced: decoded pixels, report frames, text layer."""
    from veil.capture.open import open_source
    from veil.options import VideoOptions

    h = hashlib.sha256()
    for frame in open_source(output, VideoOptions()).frames():
        h.update(frame.pixels.tobytes())
    report = json.loads(output.with_suffix(".report.json").read_text(encoding="utf-8"))
    h.update(json.dumps(report["frames"], sort_keys=True).encode())
    h.update(output.with_suffix(".textlayer.jsonl").read_bytes())
    return h.hexdigest()[:16]


def _start_cluster() -> Any:
    """Two worker nodes of one CPU each and a head that runs nothing, all on this host."""
    from veil.scale import runtime

    for key, value in runtime.QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    return cluster


def _overhead(segment_bytes: int) -> dict[str, float]:
    """Round trip of an empty actor call and the transfer of one segment's result, in ms."""
    import ray

    from veil.scale import runtime

    runtime.ensure()

    @ray.remote(num_cpus=0)
    class Echo:
        def ping(self) -> int:
            return 0

        def take(self, blob: bytes) -> int:
            return len(blob)

    echo = Echo.remote()  # type: ignore[attr-defined]
    ray.get(echo.ping.remote())
    started = time.perf_counter()
    for _ in range(50):
        ray.get(echo.ping.remote())
    call = (time.perf_counter() - started) / 50
    blob = os.urandom(max(segment_bytes, 1))
    started = time.perf_counter()
    for _ in range(10):
        ray.get(echo.take.remote(blob))
    transfer = (time.perf_counter() - started) / 10
    return {"call_ms": call * 1000, "transfer_ms": transfer * 1000}


def child(config: str, inputs: list[Path], out: Path, segment: int) -> dict[str, Any]:
    from veil.api import RunOptions, redact_file
    from veil.options import LedgerOptions, Policy

    policy = Policy(ledger=LedgerOptions(enabled=False))
    engine, _, rest = config.partition("-")
    workers = int(rest.split("x")[0])
    cluster = _start_cluster() if engine == "cluster" else None
    frames, ray_start, segments, actor_rss, result_bytes = 0, 0.0, 0, 0, 0
    stats: dict[str, int] = {}
    started = time.perf_counter()
    for path in inputs:
        output = out / f"{config}-{path.stem}.mp4"
        options = RunOptions(policy, output=output, workers=workers, segment_frames=segment,
                             engine="local" if engine == "local" else "ray")  # fmt: skip
        report = redact_file(path, options)
        frames += report.frame_count
        ray_start += report.timings.get("ray_start", 0.0)
        stats = dict(report.stats)
        segments += int(report.stats.get("segments", 0))
        result_bytes += int(report.stats.get("result_bytes", 0))
        actor_rss = max(actor_rss, int(report.stats.get("actor_peak_rss_mb", 0)))
    wall = time.perf_counter() - started
    outputs = [out / f"{config}-{p.stem}.mp4" for p in inputs]
    digests = [_digest(o) for o in outputs]
    video_bytes = sum(o.stat().st_size for o in outputs)
    layer_bytes = sum(o.with_suffix(".textlayer.jsonl").stat().st_size for o in outputs)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = {
        "config": config, "frames": frames, "wall_s": wall, "ray_start_s": ray_start,
        "segments": segments, "driver_peak_rss_mb": own_peak_rss_mb(),
        "worker_peak_rss_mb": actor_rss or kids.ru_maxrss / 1024, "digests": digests,
        "workers_lost": stats.get("workers_lost", 0),
        "output_kb_per_frame": video_bytes / frames / 1024, "layer_kb_per_frame": layer_bytes / frames / 1024,
        "cpu_s": sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                     for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)),
    }  # fmt: skip
    if config == "ray-2":
        result["segment_result_kb"] = result_bytes / max(segments, 1) / 1024
        result.update(_overhead(result_bytes // max(segments, 1)))
    if cluster is not None:
        import ray

        ray.shutdown()
        cluster.shutdown()
    return result


def _run_child(config: str, inputs: list[Path], out: Path, segment: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.ray_scale", "--child", config, "--out", str(out),
            "--segment", str(segment), *map(str, inputs)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"{config}: child failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ray_scale")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--segment", type=int, default=20, help="frames per segment")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child")
    parser.add_argument("--out", type=Path)
    parser.add_argument("inputs", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.inputs, args.out, args.segment)))
        return
    from veil.synth.office import office_recording

    with tempfile.TemporaryDirectory(prefix="veil-ray-bench-") as tmp:
        folder = Path(tmp)
        os.environ["VEIL_HOME"] = str(folder / "home")  # one host key for every run
        inputs = []
        for n in range(args.recordings):
            truth = office_recording(folder / f"desk{n}.mp4", seed=n + 1, seconds=args.seconds,
                                     size=(1280, 720))  # fmt: skip
            inputs.append(truth.path)
        results = [_run_child(c, inputs, folder, args.segment) for c in CONFIGS]
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


def _print(results: list[dict[str, Any]]) -> None:
    local = results[0]
    load = os.getloadavg()[0]
    title = f"veil redact: local pool vs Ray (cluster-2x1: two nodes SIMULATED on this host); load {load:.1f}"
    table = Table(title=title)
    for col in ("config", "frames", "frames/s", "frames/s w/o Ray start", "Ray start + models s",
                "driver peak MB", "largest worker MB", "same output as local"):  # fmt: skip
        table.add_column(col)
    for r in results:
        busy = r["wall_s"] - r["ray_start_s"]
        table.add_row(
            r["config"], str(r["frames"]), f"{r['frames'] / r['wall_s']:.2f}", f"{r['frames'] / busy:.2f}",
            f"{r['ray_start_s']:.1f}", f"{r['driver_peak_rss_mb']:.0f}", f"{r['worker_peak_rss_mb']:.0f}",
            "yes" if r["digests"] == local["digests"] else "NO",
        )  # fmt: skip
    console = Console(width=160)
    console.print(table)
    ray2 = next(r for r in results if r["config"] == "ray-2")
    extra = (ray2["wall_s"] - ray2["ray_start_s"] - local["wall_s"]) / max(ray2["segments"], 1)
    console.print(
        f"local-2: {local['cpu_s'] / local['frames']:.3f} CPU-s a frame (this process and its workers);"
        f" output {local['output_kb_per_frame']:.1f} KB a frame,"
        f" text layer {local['layer_kb_per_frame']:.2f} KB"
    )
    console.print(
        f"Ray overhead per segment: empty actor call {ray2['call_ms']:.2f} ms, result transfer "
        f"{ray2['transfer_ms']:.2f} ms ({ray2['segment_result_kb']:.0f} KB a segment);"
        f" wall (ray-2 without start - local-2) / segments: {extra:+.2f} s"
    )


if __name__ == "__main__":
    main()
