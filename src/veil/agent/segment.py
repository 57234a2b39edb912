"""One uploaded segment: verified redacted frames encoded as `veil redact` encodes its output, the
sanitized text layer, and a manifest, packed in a zip (stored, not compressed: the video is).

Members (see the contract in docs/agent.md):

    manifest.json     recording_id, seq, started_at, ended_at, frames, policy_version,
                      counts (findings by type), frames_masked_whole, mask_reasons, gaps,
                      verifier ("cleared"), sha256 (of each other member, by name; the
                      key `veil serve` checks)
    redacted.mp4      H.264 through `veil.capture.video.VideoSink`, timestamps in ms from started_at
    textlayer.jsonl   one line per frame, as `veil redact` writes it (window scrubbed, placeholders)

A segment is packed only when every frame was cleared by the verifier or masked whole (a masked
frame shows nothing); anything else is refused here (`SegmentRefused`), and nothing is queued.
Only redacted pixels are ever written, inside a private folder of the agent (0700).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from veil.capture.base import SourceInfo
from veil.capture.video import VideoSink
from veil.framestep import FrameDone, LayerChanges
from veil.models import Frame
from veil.options import VideoOptions
from veil.runfiles import make_run_folder

TIME_BASE = Fraction(1, 1000)
MEMBERS = ("redacted.mp4", "textlayer.jsonl")


class SegmentRefused(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Gap:
    """Time with no frame on purpose: `reason` says why, never which window."""

    start: datetime
    end: datetime
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end), "reason": self.reason}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SegmentBuilder:
    recording_id: str
    seq: int
    started_at: datetime
    policy_version: str
    fps: float
    video: VideoOptions
    parent: Path
    frames: int = 0
    masked_whole: int = 0
    uncleared: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    gaps: list[Gap] = field(default_factory=list)
    _sink: VideoSink | None = None
    _folder: Path | None = None
    _layer: list[str] = field(default_factory=list)
    _changes: LayerChanges = field(default_factory=LayerChanges)

    def add(self, at: datetime, index: int, done: FrameDone) -> None:
        """A processed frame captured at `at` (its pixels are the redacted ones)."""
        result = done.result
        if result.masked_whole:
            self.masked_whole += 1
            self.reasons[str(result.mask_reason)] += 1
        elif not result.verified:
            self.uncleared += 1
        self.counts.update(f.type for f in result.findings)
        millis = max(round((at - self.started_at).total_seconds() * 1000), 0)
        frame = Frame(index, done.pixels, millis, TIME_BASE)
        if self._sink is None:
            self._folder = make_run_folder(self.parent)
            height, width = done.pixels.shape[:2]
            info = SourceInfo("video", self._folder / "redacted.mp4", None, width, height,
                              Fraction(self.fps).limit_denominator(1000), TIME_BASE)  # fmt: skip
            self._sink = VideoSink(info, self._folder / "redacted.mp4", self.video, self._folder)
        self._sink.write(frame, done.pixels)
        record = json.loads(done.layer)
        record["t"] = round(millis / 1000, 3)
        self._layer.append(self._changes(json.dumps(record, ensure_ascii=False)))
        self.frames += 1

    def finish(self, ended_at: datetime) -> bytes:
        """The zip, or SegmentRefused (no frame, or a frame the verifier did not clear)."""
        try:
            if self._sink is None or self._folder is None or not self.frames:
                raise SegmentRefused("no frame")
            if self.uncleared:
                raise SegmentRefused(f"{self.uncleared} frame(s) not cleared by the verifier")
            video = self._sink.finish(self._folder / "segment.mp4").read_bytes()
            self._sink = None
            return self._pack(video, ended_at)
        finally:
            self.abort()

    def abort(self) -> None:
        if self._sink is not None:
            self._sink.abort()
            self._sink = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _pack(self, video: bytes, ended_at: datetime) -> bytes:
        layer = "".join(line + "\n" for line in self._layer).encode("utf-8")
        members = {"redacted.mp4": video, "textlayer.jsonl": layer}
        manifest = {
            "recording_id": self.recording_id,
            "seq": self.seq,
            "started_at": iso(self.started_at),
            "ended_at": iso(ended_at),
            "frames": self.frames,
            "policy_version": self.policy_version,
            "counts": dict(sorted(self.counts.items())),
            "frames_masked_whole": self.masked_whole,
            "mask_reasons": dict(sorted(self.reasons.items())),
            "gaps": [g.as_dict() for g in self.gaps],
            "verifier": "cleared",
            "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
        }
        out = io.BytesIO()
        stamp = self.started_at.astimezone(UTC).timetuple()[:6]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            for name, data in (("manifest.json", body), *members.items()):
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
        return out.getvalue()


def read_segment(body: bytes) -> tuple[dict[str, object], dict[str, bytes]]:
    """A segment's manifest and members, each member checked against the manifest's hash
    (ValueError naming what is wrong otherwise). For tests and the offline reader."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            members = {name: archive.read(name) for name in MEMBERS}
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a segment ({type(exc).__name__})") from exc
    hashes = manifest.get("sha256", {}) if isinstance(manifest, dict) else {}
    for name, data in members.items():
        if hashes.get(name) != hashlib.sha256(data).hexdigest():
            raise ValueError(f"member {name} does not match its manifest hash")
    return manifest, members
