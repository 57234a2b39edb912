"""The run report: per frame, each finding's type, boxes, recognizer and score, frames masked whole
with their reason, the verifier's result; totals per type. It never contains a matched value (nor
its keyed hash: the report may be shared, the hash is for in-process linking only)."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veil.exceptions import OutputError
from veil.models import Finding, FrameResult


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "type": f.type,
        "boxes": [b.as_list() for b in f.boxes],
        "recognizer": f.recognizer,
        "score": round(f.score, 3),
    }


@dataclass
class RunReport:
    input: str
    output: str = ""
    kind: str = ""
    frames: list[FrameResult] = field(default_factory=list)
    timings: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    stats: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    recording_id: str | None = None  # the id under which the ledger recorded this run

    def add(self, result: FrameResult) -> None:
        self.frames.append(result)

    @property
    def frames_masked(self) -> int:
        return sum(1 for f in self.frames if f.masked_whole)

    def totals(self) -> dict[str, int]:
        return dict(sorted(Counter(f.type for r in self.frames for f in r.findings).items()))

    def summary(self) -> dict[str, Any]:
        reasons = Counter(str(r.mask_reason) for r in self.frames if r.masked_whole)
        return {
            "input": self.input,
            "recording_id": self.recording_id,
            "output": self.output,
            "kind": self.kind,
            "frames": len(self.frames),
            "findings": sum(len(r.findings) for r in self.frames),
            "findings_by_type": self.totals(),
            "frames_masked_whole": self.frames_masked,
            "mask_reasons": dict(reasons),
            "verifier_clean_frames": sum(1 for r in self.frames if r.verified),
            "timings_seconds": {k: round(v, 3) for k, v in sorted(self.timings.items())},
            "change_tracking": dict(sorted(self.stats.items())),
            "error": self.error,
        }

    def to_json(self) -> dict[str, Any]:
        frames = [
            {
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
            for r in self.frames
        ]
        return {"summary": self.summary(), "frames": frames}


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary name next to `path` and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from exc
