"""Record -> redact -> mine runs end to end: a redacted recording's text layer says what changed
in each frame, and `veil mine` derives UI events from it."""

from __future__ import annotations

import json
from pathlib import Path

from veil.framestep import LayerChanges
from veil.mining.base import Action
from veil.mining.cli import MineOptions, mine
from veil.mining.textlayer import derive_events, read_text_layer


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


def _window_frame(frame: int, app: str, title: str, lines: list[tuple[list[int], str]]) -> str:
    return json.dumps(
        {
            "frame": frame,
            "t": frame,
            "user": "u-1",
            "window": {"app": app, "title": title, "url": ""},
            "lines": [{"box": b, "text": t} for b, t in lines],
            "changed": [],
        }
    )


def test_a_value_copied_from_a_sheet_and_pasted_in_a_form_is_linked(tmp_path: Path) -> None:
    sheet = [
        ([20, 60, 300, 20], "Contact"),
        ([20, 90, 120, 20], "<person_name:aa11bb22>"),
        ([20, 120, 120, 20], "<person_name:cc33dd44>"),
    ]
    empty_form = [([20, 60, 80, 20], "Contact:"), ([300, 60, 200, 30], "")]
    # The OCR missed the label beside the masked value this time: the form's earlier frame has it.
    filled_form = [([300, 60, 200, 30], "<person_name:aa11bb22>")]
    frames = [
        _window_frame(0, "Chrome", "New claim", empty_form),
        _window_frame(1, "Excel", "Claims.xlsx", sheet),
        _window_frame(2, "Chrome", "New claim", filled_form),
    ]
    layer = tmp_path / "rec.textlayer.jsonl"
    layer.write_text("\n".join(frames) + "\n", encoding="utf-8")
    events = derive_events(read_text_layer(layer))
    copy = next(e for e in events if e.action is Action.COPY)
    paste = next(e for e in events if e.action is Action.PASTE)
    assert (copy.app, copy.target, copy.value) == ("Excel", "Contact", "<person_name>")
    assert (paste.app, paste.target, paste.value) == ("Chrome", "Contact", "<person_name>")
    assert copy.links and set(copy.links) == set(paste.links)
    assert "aa11bb22" not in repr(events)  # the label is in memory as a keyed pseudonym only
