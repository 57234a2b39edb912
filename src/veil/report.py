"""The run report: per frame, each finding's type, boxes, recognizer and score, frames masked whole
with their reason, the verifier's result; totals per type. It never contains a matched value (nor
its keyed hash: the report may be shared, the hash is for in-process linking only).

The report streams, so memory stays flat however long the recording: each frame's record goes to
a temporary JSONL file next to the report as it arrives, only counters stay in memory, and
`write()` streams that file into the final JSON (`{"summary": ..., "frames": [...]}`, one frame
per line) under a temporary name renamed into place. `RunReport.frames` reads the records back
from disk, one at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, overload

from veil import faults
from veil.exceptions import OutputError
from veil.models import Box, Finding, FrameResult, MaskReason
from veil.names import shown, shown_name, shown_path
from veil.runfiles import reason

_FRAMES_OPEN = b'"frames": [\n'
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "type": f.type,
        "boxes": [b.as_list() for b in f.boxes],
        "recognizer": f.recognizer,
        "score": round(f.score, 3),
    }


def frame_record(r: FrameResult) -> dict[str, Any]:
    """One frame as the report writes it (types, boxes, recognizers, scores; never a value)."""
    return {
        "index": r.index,
        "seconds": round(r.seconds, 4),
        "findings": [_finding(f) for f in r.findings],
        "masked_whole": r.masked_whole,
        "mask_reason": str(r.mask_reason) if r.mask_reason else None,
        "verifier": {
            "clean": r.verified,
            "residual_findings": [_finding(f) for f in r.verifier_findings],
        },
    }


def _read_finding(d: dict[str, Any], index: int) -> Finding:
    boxes = tuple(Box(*b) for b in d["boxes"])
    return Finding(d["type"], boxes, d["recognizer"], float(d["score"]), "", index)


def read_frame_record(d: dict[str, Any]) -> FrameResult:
    """A report's frame record back as a FrameResult (without keyed hashes: the report has none)."""
    index = int(d["index"])
    reason = d["mask_reason"]
    return FrameResult(
        index=index,
        seconds=float(d["seconds"]),
        findings=tuple(_read_finding(f, index) for f in d["findings"]),
        masked_whole=bool(d["masked_whole"]),
        mask_reason=MaskReason(reason) if reason else None,
        verifier_findings=tuple(_read_finding(f, index) for f in d["verifier"]["residual_findings"]),
        verified=bool(d["verifier"]["clean"]),
    )


class FrameLog(Sequence[FrameResult]):
    """The per-frame results of a run, read back from disk one at a time (never all in memory).
    Ascending access is sequential: a read position is kept between calls."""

    def __init__(self, report: RunReport) -> None:
        self._report = report
        self._cursor: tuple[Path | None, int, int] | None = None  # file, next position, its byte offset

    def __len__(self) -> int:
        return self._report.frame_count

    def __iter__(self) -> Iterator[FrameResult]:
        for _, line in self._report.records():
            yield read_frame_record(json.loads(line))

    @overload
    def __getitem__(self, index: int) -> FrameResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[FrameResult]: ...

    def __getitem__(self, index: int | slice) -> FrameResult | list[FrameResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"frame {index} out of range ({len(self)} frames)")
        start = None
        cursor = self._cursor
        source = self._report.records_file()
        if cursor is not None and cursor[0] == source[0] and cursor[1] <= position:
            start = cursor[2]
            skip = position - cursor[1]
        else:
            skip = position
        for following, line in self._report.records(start):
            if skip == 0:
                self._cursor = (source[0], position + 1, following)
                return read_frame_record(json.loads(line))
            skip -= 1
        raise IndexError(f"frame {index} is missing from the report's records")


@dataclass
class RunReport:
    input: str
    output: str = ""
    kind: str = ""
    timings: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    stats: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    recording_id: str | None = None  # the id under which the ledger recorded this run
    # Where the temporary per-frame records go (the report's folder); None: the system temp folder.
    spool_dir: Path | None = None
    frame_count: int = 0
    _findings: Counter[str] = field(default_factory=Counter, repr=False)
    _reasons: Counter[str] = field(default_factory=Counter, repr=False)
    _masked: int = 0
    _verified: int = 0
    _rechecked: Counter[str] = field(default_factory=Counter, repr=False)
    _seconds: tuple[float, float] | None = None  # first and last frame's time
    _spool: Path | None = field(default=None, repr=False)
    _spool_fh: IO[bytes] | None = field(default=None, repr=False)
    _written: tuple[Path, int] | None = field(default=None, repr=False)  # report file, frames offset
    _log: FrameLog | None = field(default=None, repr=False)

    def add(self, result: FrameResult) -> None:
        """Append one frame's record to the spool file and count it."""
        line = json.dumps(frame_record(result), ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            faults.check("report")
            self._open_spool().write(line)
        except OSError as exc:
            raise OutputError(f"cannot write the report's frame records ({reason(exc)})") from exc
        self.frame_count += 1
        self._findings.update(f.type for f in result.findings)
        if result.masked_whole:
            self._masked += 1
            self._reasons[str(result.mask_reason)] += 1
        self._verified += result.verified
        if not result.masked_whole:  # the verifier's hits, masked and the frame re-scanned clean
            self._rechecked.update(f.type for f in result.verifier_findings)
        first = self._seconds[0] if self._seconds else result.seconds
        self._seconds = (first, result.seconds)

    def _open_spool(self) -> IO[bytes]:
        if self._spool_fh is None:
            if self._written is not None:
                raise OutputError("the report was already written; no frame can be added")
            folder = self.spool_dir
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".veil-report-", suffix=".frames.jsonl", dir=folder)
            self._spool, self._spool_fh = Path(name), os.fdopen(fd, "wb")
        return self._spool_fh

    @property
    def frames(self) -> FrameLog:
        """Per-frame results, read back from disk (the spool while running, the report after)."""
        if self._log is None:
            self._log = FrameLog(self)
        return self._log

    @property
    def frames_masked(self) -> int:
        return self._masked

    @property
    def duration_seconds(self) -> float:
        """Time from the first frame to the last."""
        return self._seconds[1] - self._seconds[0] if self._seconds else 0.0

    def totals(self) -> dict[str, int]:
        return dict(sorted(self._findings.items()))

    def summary(self) -> dict[str, Any]:
        return {
            # File names are shown with any personal value in them replaced by `<type>`.
            "input": shown_name(self.input),
            "recording_id": self.recording_id,
            "output": shown_path(self.output) if self.output else "",
            "kind": self.kind,
            "frames": self.frame_count,
            "findings": sum(self._findings.values()),
            "findings_by_type": self.totals(),
            "frames_masked_whole": self._masked,
            "mask_reasons": dict(self._reasons),
            "verifier_clean_frames": self._verified,
            # Values the primary pass missed and the verifier caught on frames it then cleared
            # (`redact.on_verifier_hit: mask-and-recheck`): a measure of the primary pass.
            "caught_by_verifier_by_type": dict(sorted(self._rechecked.items())),
            "timings_seconds": {k: round(v, 3) for k, v in sorted(self.timings.items())},
            "change_tracking": dict(sorted(self.stats.items())),
            "error": self.error,
        }

    def records_file(self) -> tuple[Path | None, int]:
        """Where the frame records are now: the spool (flushed) or the written report, and the
        byte offset of the first record."""
        if self._spool_fh is not None:
            self._spool_fh.flush()
            return self._spool, 0
        if self._written is not None:
            return self._written
        return None, 0

    def records(self, start: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(byte offset of the next record, JSON line) of each frame record, from `start` (default:
        the first)."""
        path, first = self.records_file()
        if path is None:
            return
        with path.open("rb") as fh:
            fh.seek(first if start is None else start)
            while True:
                line = fh.readline()
                if not line or line.startswith(b"]"):
                    return
                yield fh.tell(), line.rstrip(b",\n")

    def write(self, path: Path) -> None:
        """Stream the report to `path` atomically (through a new temporary file beside it, never a
        fixed name), then remove the spool. Frames stay readable (from `path`)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _replacing(path) as out:
                head = json.dumps({"summary": self.summary()}, ensure_ascii=False)
                out.write(head[:-1].encode("utf-8") + b",\n" + _FRAMES_OPEN)
                offset = out.tell()
                self._copy_records(out)
                out.write(b"]}\n")
        except OSError as exc:
            raise OutputError(f"cannot write {shown(path)} ({reason(exc)})") from exc
        self.discard()
        self._written = (path, offset)

    def publish(self, target: Path) -> None:
        """Move the written report to `target` (same file system); frames are then read from there."""
        if self._written is None:
            raise OutputError(f"{shown(target)}: the report was not written yet")
        os.replace(self._written[0], target)
        self._written = (target, self._written[1])
        self._log = None

    def _copy_records(self, out: IO[bytes]) -> None:
        previous: bytes | None = None
        for _, line in self.records():
            if previous is not None:
                out.write(previous + b",\n")
            previous = line
        if previous is not None:
            out.write(previous + b"\n")

    def discard(self) -> None:
        """Close and remove the spool file (on success after `write`, and on any failure)."""
        if self._spool_fh is not None:
            self._spool_fh.close()
            self._spool_fh = None
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)
            self._spool = None


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A new temporary file beside `path` (O_EXCL, unique name: no planted link is followed),
    renamed to `path` when the block ends without error and removed otherwise."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a report is as readable as before
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a new temporary file beside `path` and rename it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _replacing(path) as out:
            out.write((json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write {shown(path)} ({reason(exc)})") from exc
