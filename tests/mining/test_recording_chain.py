"""Record -> redact -> mine runs end to end: a redacted recording's text layer says what changed
in each frame, and `veil mine` derives UI events from it."""

from __future__ import annotations

import json
from pathlib import Path

from veil.framestep import LayerChanges
from veil.mining.cli import MineOptions, mine


def _layer(frame: int, lines: list[tuple[list[int], str]]) -> str:
    return json.dumps(
        {
            "frame": frame,
            "t": frame / 2,
            "user": None,
            "window": None,
            "lines": [{"box": b, "text": t} for b, t in lines],
            "changed": [],
        }
    )


def test_changed_lines_are_those_that_appeared_changed_or_went() -> None:
    changes = LayerChanges()
    first = json.loads(
        changes(_layer(0, [([10, 10, 80, 20], "Name:"), ([100, 10, 90, 20], "<person_name>")]))
    )
    assert first["changed"] == []  # nothing to compare the first frame with
    typed = json.loads(
        changes(
            _layer(
                1,
                [
                    ([10, 10, 80, 20], "Name:"),
                    ([100, 10, 120, 20], "<person_name>"),
                    ([10, 40, 80, 20], "Phone:"),
                ],
            )
        )
    )
    # The value grew: its new box appeared and its old one went; the new field label appeared.
    assert typed["changed"] == [[10, 40, 80, 20], [100, 10, 120, 20], [100, 10, 90, 20]]
    still = json.loads(
        changes(
            _layer(
                2,
                [
                    ([10, 10, 80, 20], "Name:"),
                    ([100, 10, 120, 20], "<person_name>"),
                    ([10, 40, 80, 20], "Phone:"),
                ],
            )
        )
    )
    assert still["changed"] == []
    gone = json.loads(changes(_layer(3, [([10, 10, 80, 20], "Name:")])))
    assert sorted(gone["changed"]) == [[10, 40, 80, 20], [100, 10, 120, 20]]


def test_a_form_typed_into_gives_ui_events(tmp_path: Path) -> None:
    layer = tmp_path / "rec.textlayer.jsonl"
    changes = LayerChanges()
    fields = ["Name:", "E-mail:", "Phone:"]
    lines = []
    for n in range(12):
        shown = [([10, 10 + 30 * k, 80, 20], f) for k, f in enumerate(fields)]
        for k in range(min(n // 3 + 1, 3) if n % 4 else 0):
            shown.append(([100, 10 + 30 * k, 120, 20], ["<person_name>", "<email>", "<phone>"][k]))
        lines.append(changes(_layer(n, shown)))
    layer.write_text("\n".join(lines) + "\n", encoding="utf-8")
    video = tmp_path / "rec.mp4"
    video.write_bytes(b"")
    summary = mine([video], tmp_path / "out", MineOptions(xes=False))
    assert summary.events > 3
    typed = (tmp_path / "out" / "events.csv").read_text(encoding="utf-8")
    assert ",type," in typed and "unknown" in typed and "None" not in typed
