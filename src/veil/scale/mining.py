"""`veil mine --engine ray`: a recording's events derived in a Ray task of its own, many at once.

Deriving events reads a whole sanitized text layer (every frame of a working day) and is
independent per recording: one task per text layer, results gathered in input order, so the events
are those of the local path, in the same order. UI logs (Action Logger CSV, XES) stay in the
driver: their user pseudonyms (`user-N`) are numbered across files, in order. Segmentation then
runs as one task: task types are learnt across all users (a task is the same task whoever does it),
so cutting it per user would change the result, not only its speed.

Only sanitized text layers cross Ray's object store (as bytes: worker nodes need not share the
driver's files); their placeholders and labels hold no value.
Each task gets the run's linking key (`veil.mining.links`: held in memory for one run), so a
person's pseudonym and a value's links are the same in every task, as in one process; the key
travels inside Ray's task arguments (on a cluster, over its connections: see docs/scale.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from veil.exceptions import InputError
from veil.mining import links
from veil.mining.actionlogger import UserIds, read_action_logger
from veil.mining.base import Segmentation, UIEvent
from veil.mining.links import Linker
from veil.mining.segment import SegmentOptions, segment
from veil.mining.textlayer import derive_events, read_text_layer
from veil.mining.xes import read_xes
from veil.scale import runtime

WINDOW_FACTOR = 2  # recordings in flight per CPU: a bounded number of event lists in memory


def _derive(name: str, data: bytes, linker: Linker) -> list[UIEvent]:
    """The events of one text layer, sent as bytes: a worker node need not see the driver's files
    (`veil serve` reads the layers from the store into a folder of its own)."""
    with tempfile.TemporaryDirectory(prefix="veil-layer-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        with links.shared(linker):  # the driver's run key: users and values link across tasks
            return list(derive_events(read_text_layer(path), source=name))


def _layer_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InputError(f"text layer unreadable: {file}: {type(exc).__name__}") from exc


def _segment(events: list[UIEvent], options: SegmentOptions) -> Segmentation:
    return segment(events, options)


def load_events(files: list[tuple[str, Path]]) -> tuple[list[UIEvent], dict[str, Path]]:
    """As `veil.mining.cli.load_events`, for resolved `(kind, file)` inputs, text layers as tasks."""
    ray = runtime.ensure()
    derive = ray.remote(num_cpus=1)(_derive)
    window = WINDOW_FACTOR * runtime.cluster_cpus()
    users = UserIds()
    linker = links.default_linker()
    parts: list[list[UIEvent]] = [[] for _ in files]
    pending: dict[Any, int] = {}
    layers: dict[str, Path] = {}
    for position, (kind, file) in enumerate(files):
        if kind == "textlayer":
            while len(pending) >= window:  # backpressure: wait for one before sending more
                _collect(ray, pending, parts, 1)
            pending[derive.remote(file.name, _layer_bytes(file), linker)] = position
            layers[file.name] = file
        elif kind == "csv":
            parts[position] = read_action_logger(file, users)
        else:
            parts[position] = read_xes(file, users)
    while pending:
        _collect(ray, pending, parts, len(pending))
    events = [e for part in parts for e in part]
    if not events:
        raise InputError("the inputs hold no UI events")
    events.sort(key=lambda e: e.timestamp)
    return events, layers


def _collect(ray: Any, pending: dict[Any, int], parts: list[list[UIEvent]], count: int) -> None:
    ready, _ = ray.wait(list(pending), num_returns=count)
    for ref in ready:
        try:
            parts[pending.pop(ref)] = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, InputError):
                raise exc.cause from None  # a broken text layer: the local path's message
            raise


def segment_remote(events: list[UIEvent], options: SegmentOptions) -> Segmentation:
    """`veil.mining.segment.segment` as one Ray task (on a cluster, not on the driver's host)."""
    ray = runtime.ensure()
    result: Segmentation = ray.get(ray.remote(num_cpus=1)(_segment).remote(events, options))
    return result
