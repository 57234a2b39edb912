"""The agent's side of the uplink: its device key, its settings, and the two calls it makes.

    GET  /api/v1/agent/state                          may I record? (polled; fail closed)
    GET  /api/v1/agent/policy                         the policy in force, to record under
    PUT  /api/v1/agent/segments/{recording_id}/{seq}  a verified segment (zip)

Every request is signed with the device's Ed25519 key (`veil.uplink.sign_request`). The key is made
by `veil record init --server URL` (PEM, 0600, in the agent folder) which prints the public key for
the administrator; the device id the server gives back is stored with `--device ID`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from veil.exceptions import OutputError, PolicyError
from veil.uplink import sign_request

KEY_FILE = "device-key.pem"
CONFIG_FILE = "agent.json"
REASONS = frozenset(
    {"ok", "paused-by-employee", "private", "gate-incomplete", "cap-reached", "device-revoked"}
)


@dataclass(frozen=True, slots=True)
class ServerState:
    recording: bool
    reason: str
    policy_version: str = ""
    fps_cap: float | None = None
    daily_cap_minutes: int | None = None

    @classmethod
    def parse(cls, obj: Any) -> ServerState:
        """The server's answer, or a stop (`recording=False`) when it is not one we understand."""
        if not isinstance(obj, dict) or obj.get("recording") is not True:
            why = obj.get("reason") if isinstance(obj, dict) else None
            return cls(False, why if why in REASONS else "server-refused")
        fps, cap = obj.get("fps_cap"), obj.get("daily_cap_minutes")
        return cls(
            True,
            "ok",
            str(obj.get("policy_version") or ""),
            float(fps) if isinstance(fps, int | float) and fps > 0 else None,
            int(cap) if isinstance(cap, int) and cap >= 0 else None,
        )


UNREACHABLE = ServerState(False, "server-unreachable")


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    version: str
    text: str  # YAML, validated by the caller (`veil.options.policy_from_text`)


def make_key(folder: Path) -> str:
    """Create the device key (refuses to replace one) and return its public key PEM."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / KEY_FILE
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return public_pem(load_key(folder))
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_pem(key)


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_key(folder: Path) -> Ed25519PrivateKey:
    path = folder / KEY_FILE
    try:
        if path.stat().st_mode & 0o077:
            raise PolicyError(f"the device key {KEY_FILE} is readable by others; chmod 600 it")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise PolicyError("no device key: run `veil record init --server URL` first") from None
    except (OSError, ValueError) as exc:
        raise PolicyError(f"the device key {KEY_FILE} is unreadable ({type(exc).__name__})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise PolicyError(f"the device key {KEY_FILE} is not an Ed25519 key")
    return key


def load_config(folder: Path) -> dict[str, str]:
    try:
        obj = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{CONFIG_FILE} in the agent folder is damaged ({type(exc).__name__})") from exc
    if not isinstance(obj, dict):
        raise PolicyError(f"{CONFIG_FILE} in the agent folder is damaged (not an object)")
    return {k: str(v) for k, v in obj.items() if isinstance(v, str)}


def save_config(folder: Path, **values: str) -> dict[str, str]:
    from veil.agent.outbox import write_atomic

    config = {**load_config(folder), **values}
    try:
        write_atomic(folder / CONFIG_FILE, json.dumps(config, indent=1, sort_keys=True).encode())
    except OSError as exc:
        raise OutputError(f"cannot write {CONFIG_FILE} in the agent folder ({exc.strerror})") from exc
    return config


class ServerClient:
    """Signed calls to one Veil server. Never raises on the network: a failure is a stop."""

    def __init__(
        self,
        server: str,
        device: str,
        key: Ed25519PrivateKey,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.device = device
        self._key = key
        self._http = httpx.Client(base_url=server.rstrip("/"), timeout=timeout, transport=transport)
        self._prefix = httpx.URL(server.rstrip("/") + "/").path.rstrip("/")

    def close(self) -> None:
        self._http.close()

    def _headers(self, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        return sign_request(self._key, self.device, method, self._prefix + path, body)

    def state(self) -> ServerState:
        path = "/api/v1/agent/state"
        try:
            response = self._http.get(path, headers=self._headers("GET", path))
            if response.status_code != httpx.codes.OK:
                revoked = response.status_code == httpx.codes.UNAUTHORIZED
                return ServerState(False, "device-revoked" if revoked else "server-refused")
            return ServerState.parse(response.json())
        except (httpx.HTTPError, ValueError):
            return UNREACHABLE

    def policy(self) -> ServerPolicy | None:
        """The server's policy in force, or None (unreachable, refused, or its text does not match
        the SHA-256 sent with it)."""
        path = "/api/v1/agent/policy"
        try:
            response = self._http.get(path, headers=self._headers("GET", path))
            if response.status_code != httpx.codes.OK:
                return None
            obj = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(obj, dict):
            return None
        version, text, digest = obj.get("version"), obj.get("text"), obj.get("sha256")
        if not (isinstance(version, str) and version and isinstance(text, str) and isinstance(digest, str)):
            return None
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            return None
        return ServerPolicy(version, text)

    def put_segment(self, recording_id: str, seq: int, body: bytes) -> int:
        """The server's status code (201 new, 200 duplicate, 409, 401, 422, ...); 0 when unreachable."""
        path = f"/api/v1/agent/segments/{recording_id}/{seq}"
        headers = {**self._headers("PUT", path, body), "Content-Type": "application/zip"}
        try:
            return self._http.put(path, content=body, headers=headers).status_code
        except httpx.HTTPError:
            return 0
