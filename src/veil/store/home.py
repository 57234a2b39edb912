"""The Veil home folder (VEIL_HOME, else ~/.local/share/veil) and the host-local secret keys.

Keys never leave this machine: they are created on first use with 0600 permissions and only ever
read by the process that needs them.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from veil.exceptions import OutputError

KEY_BYTES = 32


def veil_home() -> Path:
    env = os.environ.get("VEIL_HOME")
    home = Path(env) if env else Path.home() / ".local" / "share" / "veil"
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise OutputError(f"cannot create the Veil home folder {home}: {exc.strerror}") from exc
    return home


def default_catalog_url() -> str:
    """The catalog database (store objects, data keys, users, grants): VEIL_CATALOG_URL, else a
    SQLite file in the Veil home folder. PostgreSQL in production."""
    return os.environ.get("VEIL_CATALOG_URL") or f"sqlite:///{veil_home() / 'catalog.sqlite3'}"


def load_or_create_key(name: str, home: Path | None = None) -> bytes:
    """A 32-byte host secret named `name` (e.g. "finding-hmac"), created on first use."""
    path = (home or veil_home()) / "keys" / f"{name}.key"
    if path.exists():
        data = path.read_bytes()
        if len(data) != KEY_BYTES:
            raise OutputError(f"key file {path} is damaged (expected {KEY_BYTES} bytes)")
        return data
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    # Written whole under a unique name, then hard-linked into place: the first writer wins,
    # later ones read its key, and nobody ever reads half a key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create_key(name, home)
    finally:
        tmp.unlink(missing_ok=True)
    return key
