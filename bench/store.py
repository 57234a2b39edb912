"""Throughput of the recording store (encryption on) against a plain copy of the same bytes.

    python -m bench.store [--mib 128] [--objects 4] [--s3] [--sites]

Local: `put` of each object from a file into the local folder backend (chunked AES-256-GCM, fsync,
catalog row, ledger entry) and `read_into` a file (authenticated decryption, ledger entry) against
`shutil.copyfile` of the same file into the folder and back out. With --s3 (needs `weed`, the
extra `sites`): the same store on a single-volume-server SeaweedFS (veil.sites) on loopback, against boto3
`upload_file`/`download_file` of the plaintext. With --sites: the same on the two-site cluster of
`veil.sites` (a volume server per data center, replication 100: every write lands on both sites
before it is acknowledged). Everything runs in a temporary folder; prints MB/s
(10^6 bytes per second) and the store's share of the plain copy's speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from veil.audit import Ledger
from veil.store.backends import Backend, LocalFolderBackend, S3Backend
from veil.store.kek import FileKek
from veil.store.models import ObjectClass
from veil.store.store import RecordingStore


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_sources(folder: Path, objects: int, size: int) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for i in range(objects):
        path = folder / f"segment-{i}.bin"
        with path.open("wb") as fh:  # incompressible, like video
            for _ in range(size >> 20):
                fh.write(os.urandom(1 << 20))
        out.append(path)
    return out


def bench_store(base: Path, backend: Backend, sources: list[Path], tag: str) -> tuple[float, float]:
    """(write seconds, read seconds) of the store for all `sources`."""
    home = base / f"home-{tag}"
    ledger = Ledger.open(f"sqlite:///{home / 'ledger.sqlite3'}", home / "ledger-keys")
    store = RecordingStore.open(
        catalog_url=f"sqlite:///{home / 'catalog.sqlite3'}", backend=backend, kek=FileKek(home), ledger=ledger
    )
    ids: list[str] = []

    def write() -> None:
        for i, src in enumerate(sources):
            with src.open("rb") as fh:
                obj = store.put(fh, klass=ObjectClass.REDACTED, owner="bench", recording_id=f"bench-{tag}",
                                segment=i, policy_version="1")  # fmt: skip
            ids.append(obj.object_id)

    def read() -> None:
        for object_id in ids:
            with (base / "out.bin").open("wb") as fh:
                store.read_into(object_id, fh, actor="bench")

    w, r = timed(write), timed(read)
    store.close()
    ledger.close()
    return w, r


def bench_copy(base: Path, sources: list[Path], fsync: bool = False) -> tuple[float, float]:
    folder = base / ("plain-fsync" if fsync else "plain")
    folder.mkdir()

    def write() -> None:
        for src in sources:
            shutil.copyfile(src, folder / src.name)
            if fsync:
                fd = os.open(folder / src.name, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)

    def read() -> None:
        for src in sources:
            shutil.copyfile(folder / src.name, base / "out.bin")

    return timed(write), timed(read)


def bench_s3_plain(s3: S3Backend, sources: list[Path], base: Path) -> tuple[float, float]:
    """The plaintext through the same client and transfer settings as the store's S3 backend."""
    client = s3._s3

    def write() -> None:
        for src in sources:
            with src.open("rb") as fh:
                client.upload_fileobj(fh, s3.bucket, f"plain/{src.name}", Config=s3._transfer)

    def read() -> None:
        for src in sources:
            body = client.get_object(Bucket=s3.bucket, Key=f"plain/{src.name}")["Body"]
            with (base / "out.bin").open("wb") as fh:
                shutil.copyfileobj(body, fh, 1 << 20)

    return timed(write), timed(read)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=128, help="total MiB written (default 128)")
    parser.add_argument("--objects", type=int, default=4, help="objects it is split into (default 4)")
    parser.add_argument("--s3", action="store_true", help="also on a SeaweedFS the bench starts")
    parser.add_argument(
        "--sites", action="store_true", help="also on the two-site SeaweedFS (replication 100)"
    )
    args = parser.parse_args()
    size = max(1, args.mib // args.objects) << 20
    total = size * args.objects / 1e6
    console = Console(width=110)
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="veil-bench-store-") as tmp:
        base = Path(tmp)
        sources = make_sources(base / "src", args.objects, size)
        cw, cr = bench_copy(base, sources)
        fw, _ = bench_copy(base, sources, fsync=True)
        sw, sr = bench_store(base, LocalFolderBackend(base / "objects"), sources, "local")
        rows += [
            ("local folder", "write", total / sw, total / cw),
            ("local folder", "write (plain fsynced)", total / sw, total / fw),
            ("local folder", "read", total / sr, total / cr),
        ]
        if args.s3:
            rows += bench_s3(base, sources, total, console)
        if args.sites:
            rows += bench_s3(base, sources, total, console, two_sites=True)
    table = Table(title=f"veil store: {args.objects} objects, {total:.0f} MB in all, encryption on")
    for col in ("backend", "operation", "store MB/s", "plain copy MB/s", "store / plain"):
        table.add_column(col, justify="right" if "MB/s" in col or "/" in col else "left")
    for backend, op, store_rate, plain_rate in rows:
        table.add_row(backend, op, f"{store_rate:.0f}", f"{plain_rate:.0f}", f"{store_rate / plain_rate:.0%}")
    console.print(table)
    console.print(
        "plain copy: shutil.copyfile locally (page cache, no fsync, unless said); on S3 the plaintext "
        "through the same boto3 client and transfer settings. The store fsyncs every object."
    )


def bench_s3(
    base: Path, sources: list[Path], total: float, console: Console, *, two_sites: bool = False
) -> list[tuple[str, str, float, float]]:
    """The store on SeaweedFS started by veil.sites: one volume server (replication 000), or the
    two-site cluster (a volume server per data center, replication 100)."""
    from veil.sites import SeaweedCluster, SiteError

    sites, replication, label = (
        (("dc1", "dc2"), "100", "two sites (100)") if two_sites else (("dc1",), "000", "SeaweedFS S3")
    )
    try:
        cluster = SeaweedCluster(
            base / label.split()[0], sites=sites, replication=replication, volume_size_limit_mb=64
        )
    except SiteError as exc:
        console.print(f"S3: {exc}; skipped")
        return []
    with cluster:
        ep = cluster.s3
        s3 = S3Backend(ep.url, "bench", ep.access_key, ep.secret_key, ep.region, create_bucket=True)
        for i in range(3):  # warm up: the first writes make SeaweedFS allocate its volumes
            s3.put(f"warmup/{i}", os.urandom(9 << 20))
        pw, pr = bench_s3_plain(s3, sources, base)
        sw_, sr = bench_store(base, s3, sources, label.split()[0])
    return [(label, "write", total / sw_, total / pw), (label, "read", total / sr, total / pr)]


if __name__ == "__main__":
    main()
