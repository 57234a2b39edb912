"""How fast `veil serve` takes segments and shows the dashboard, on this machine (2 cores).

    python -m bench.server [--uploads 400] [--clients 4] [--segment-kib 256] [--recordings 10000]

1. Segment uploads: uvicorn in its own process (1 worker, then 2), an httpx client in this one
   with `--clients` threads, every request signed by the device key (veil.uplink) and each a new
   segment (zip: manifest, redacted.mp4 of `--segment-kib` random bytes, a text layer). Reports
   requests/s, MB/s and latency percentiles; every answer must be 201.
2. The dashboard with `--recordings` recordings in the catalog (rows seeded directly) and 200
   egress sends in the ledger: load time
   of the recordings list (first and last page), the JSON mirror, the employee portal of someone
   with 100 recordings and the egress log, each the median of 15 requests by a logged-in client.
SQLite catalog and ledger on the local disk (the embedded default).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rich.console import Console
from rich.table import Table
from tests.server.conftest import PASSWORD, USERS, Device, complete_gate, segment_zip

from veil.server.agent_api import register_device
from veil.server.context import Context
from veil.server.db import RecordingRow
from veil.server.settings import Settings

ENV_DIR = "VEIL_BENCH_SERVER_DIR"
EGRESS_SENDS = 200


def settings(folder: Path) -> Settings:
    return Settings(
        catalog_url=f"sqlite:///{folder / 'catalog.sqlite3'}",
        ledger_url=f"sqlite:///{folder / 'ledger.sqlite3'}",
        ledger_key_dir=folder / "ledger-keys",
        data_dir=folder / "server",
    )


def make_app() -> object:
    """uvicorn's factory (`--factory`) in the server processes."""
    from veil.server.app import create_app

    return create_app(settings(Path(os.environ[ENV_DIR])))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(folder: Path) -> Device:
    ctx = Context.open(settings(folder))
    try:
        for name, role in USERS.items():
            ctx.directory.add_user(name, role, password=PASSWORD, by="bench")
        complete_gate(ctx)
        key = Ed25519PrivateKey.generate()
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        return Device(key, register_device(ctx, "emp.one", pem, "bench"))
    finally:
        ctx.close()


class Server:
    def __init__(self, folder: Path, workers: int) -> None:
        self.port = _free_port()
        env = {**os.environ, ENV_DIR: str(folder), "VEIL_HOME": str(folder / "home")}
        cmd = [sys.executable, "-m", "uvicorn", "bench.server:make_app", "--factory", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(workers), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/login", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _uploads(url: str, device: Device, total: int, clients: int, video: bytes, tag: str) -> dict[str, float]:
    bodies = [segment_zip(f"{tag}-{i // 50}", i % 50, video=video) for i in range(total)]
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def worker(indices: range) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in indices:
                path = f"/api/v1/agent/segments/{tag}-{i // 50}/{i % 50}"
                began = time.perf_counter()
                answer = client.put(path, content=bodies[i], headers=device.headers("PUT", path, bodies[i]))
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if answer.status_code != 201:
                        failures.append(answer.status_code)

    threads = [threading.Thread(target=worker, args=(range(c, total, clients),)) for c in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} uploads failed: {sorted(set(failures))}")
    latencies.sort()
    return {
        "rps": total / wall,
        "mbps": total * len(bodies[0]) / wall / 1e6,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
    }


def _seed_recordings(folder: Path, count: int) -> None:
    ctx = Context.open(settings(folder))
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    counts = json.dumps({"email": 2, "name": 5, "phone": 3})
    try:
        with ctx.session() as s:
            s.add_all(
                RecordingRow(
                    recording_id=f"seed-{i:06d}",
                    owner=f"emp.{'one' if i % 100 == 0 else secrets.token_hex(3)}",
                    device_id="0" * 16,
                    started_at=start + timedelta(minutes=30 * i),
                    ended_at=start + timedelta(minutes=30 * i + 29),
                    segments=60,
                    frames=9000,
                    frames_masked_whole=i % 7,
                    counts=counts,
                    policy_version="1",
                    expires_at=start + timedelta(days=90, minutes=30 * i),
                )
                for i in range(count)
            )
        for i in range(EGRESS_SENDS):  # an egress log to page through (each row with its proof)
            intent = ctx.ledger.begin_egress(
                destination="local-model",
                policy_version="1",
                payload_sha256=f"{i:064x}",
                size=4096,
                model="m",
            )
            ctx.ledger.complete_egress(intent)
    finally:
        ctx.close()


def _login(client: httpx.Client, user: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    client.post("/login", data={"user": user, "password": PASSWORD, "csrf": token.group(1)})


def _page_times(url: str, pages: dict[str, tuple[str, str]], repeat: int = 15) -> dict[str, float]:
    out: dict[str, float] = {}
    clients: dict[str, httpx.Client] = {}
    try:
        for label, (user, path) in pages.items():
            if user not in clients:
                clients[user] = httpx.Client(base_url=url, timeout=60)
                _login(clients[user], user)
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                answer = clients[user].get(path)
                times.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {answer.status_code}")
            out[label] = statistics.median(times) * 1000
    finally:
        for c in clients.values():
            c.close()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--segment-kib", type=int, default=256)
    parser.add_argument("--recordings", type=int, default=10_000)
    args = parser.parse_args(argv)
    console = Console()
    video = secrets.token_bytes(args.segment_kib * 1024)
    uploads = Table(title=f"segment uploads ({args.segment_kib} KiB video, {args.clients} client threads)")
    for col in ("uvicorn workers", "uploads", "requests/s", "MB/s", "p50 ms", "p95 ms"):
        uploads.add_column(col, justify="right")
    with tempfile.TemporaryDirectory(prefix="veil-bench-server-") as tmp:
        folder = Path(tmp)
        os.environ["VEIL_HOME"] = str(folder / "home")
        device = _seed(folder)
        for workers in (1, 2):
            server = Server(folder, workers)
            try:
                r = _uploads(server.url, device, args.uploads, args.clients, video, f"w{workers}")
            finally:
                server.stop()
            uploads.add_row(
                str(workers), str(args.uploads), f"{r['rps']:.1f}", f"{r['mbps']:.1f}", f"{r['p50']:.0f}",
                f"{r['p95']:.0f}",
            )  # fmt: skip
        console.print(uploads)
        _seed_recordings(folder, args.recordings)
        server = Server(folder, 1)
        last = -(-(args.recordings + 2 * args.uploads // 50) // 50)
        try:
            times = _page_times(
                server.url,
                {
                    "recordings list, page 1 (HTML)": ("ana.one", "/recordings"),
                    f"recordings list, page {last} (HTML)": ("ana.one", f"/recordings?page={last}"),
                    "recordings list, page 1 (JSON)": ("ana.one", "/api/v1/recordings"),
                    "employee portal, 100+ recordings": ("emp.one", "/me"),
                    f"egress log, {2 * EGRESS_SENDS} entries, 20 proofs": ("dpo.one", "/egress"),
                },
            )
        finally:
            server.stop()
    pages = Table(title=f"dashboard with {args.recordings:,} recordings in the catalog (median of 15)")
    pages.add_column("page")
    pages.add_column("ms", justify="right")
    for label, ms in times.items():
        pages.add_row(label, f"{ms:.0f}")
    console.print(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
