"""Raw frames kept on the agent's machine, only when the policy says so (`agent.keep_raw: true`).

Raw pixels never touch the disk in clear: a segment's raw frames are PNG-encoded in memory, packed
in a zip in memory, and handed to the recording store (`veil.store`) as a RAW object: encrypted
with its own data key (AES-256-GCM), the key wrapped by the host's key-encryption key, and
crypto-shredded after the policy's `store.retention_days.raw` (expired at start and after each
segment). Reading one back needs a break-glass grant (the store's read guard). Raw objects never
leave the machine: the uploader sends redacted segments only.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import cv2

from veil.exceptions import OutputError
from veil.models import Pixels
from veil.options import Policy
from veil.store.models import ObjectClass, Retention
from veil.store.store import RecordingStore


class RawKeeper:
    """Collects one segment's raw frames in memory; `store()` encrypts them into the store."""

    def __init__(self, policy: Policy, owner: str, store: RecordingStore | None = None) -> None:
        days = policy.store.retention_days
        self.policy, self.owner = policy, owner
        self.store = store or RecordingStore.open(retention=Retention(days.raw, days.redacted))
        self._frames: list[tuple[float, bytes]] = []
        self.store.expire()

    def add(self, seconds: float, pixels: Pixels) -> None:
        ok, png = cv2.imencode(
            ".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1]
        )
        if not ok:
            raise OutputError("a raw frame could not be encoded for the store")
        self._frames.append((seconds, png.tobytes()))

    def store_segment(self, recording_id: str) -> None:
        """Encrypt this segment's raw frames into the store (a new object), then forget them."""
        if not self._frames:
            return
        out = io.BytesIO()
        stamp = datetime.now(UTC).timetuple()[:6]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            for number, (seconds, png) in enumerate(self._frames):
                archive.writestr(zipfile.ZipInfo(f"{number:06d}-{seconds:.3f}.png", stamp), png)
        self._frames.clear()
        index = len(self.store.list(recording_id=recording_id, klass=ObjectClass.RAW))
        self.store.put(out.getvalue(), klass=ObjectClass.RAW, owner=self.owner, recording_id=recording_id,
                       segment=index, policy_version=self.policy.version)  # fmt: skip
        self.store.expire()

    def drop(self) -> None:
        self._frames.clear()

    def close(self) -> None:
        self._frames.clear()
        self.store.close()
