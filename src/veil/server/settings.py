"""What `veil serve` is configured with: one frozen value object shared by the CLI, the app and tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from veil.access._db import catalog_url
from veil.store.home import veil_home


def default_catalog_url() -> str:
    """VEIL_CATALOG_URL, else SQLite in the Veil home folder (the store's and the directory's default)."""
    return catalog_url()


@dataclass(frozen=True, slots=True)
class Settings:
    """Server settings. `None` URLs and folders mean the Veil home folder's defaults."""

    catalog_url: str | None = None  # devices, segments, portal state, users (SQLite or PostgreSQL)
    ledger_url: str | None = None  # default: veil.audit.default_ledger_url()
    ledger_key_dir: Path | None = None  # default: veil.audit.default_key_dir()
    data_dir: Path | None = None  # segment objects (local sink) and mining runs; default: veil home
    https: bool = False  # behind TLS: Secure cookies and HSTS
    proxy_header: str | None = None  # e.g. "X-Remote-User": trusted only from `trusted_proxies`
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks of the reverse proxy
    retention_days: int = 90  # a stored segment's deletion date
    request_deadline_days: int = 30  # answer an export or deletion request within this
    fps_cap: float = 5.0
    daily_cap_minutes: int = 480
    max_segment_bytes: int = 256 * 1024 * 1024
    page_size: int = 50
    watch_alarms: bool = True  # evaluate the access alarms in the background (policy's interval)
    retention_sweep_seconds: float = 3600.0  # shred what is past retention this often; 0: never
    # Batch jobs (task mining, redaction jobs): "local" (this host) or "ray" (RAY_ADDRESS, else a local Ray)
    engine: str = "local"
    max_upload_bytes: int = 2 * 1024**3  # a recording uploaded for a redaction job
    job_sweep_seconds: float = 30.0  # recover interrupted redaction jobs, run queued ones; 0: never

    def catalog(self) -> str:
        return self.catalog_url or default_catalog_url()

    def data(self) -> Path:
        return self.data_dir or veil_home() / "server"

    def proxy_trusted(self, address: str | None) -> bool:
        if not self.proxy_header or address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.trusted_proxies)
