from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from veil.exceptions import InputError
from veil.mining.base import Action
from veil.mining.textlayer import derive_events, read_text_layer, screen_signature

ADMIN = {"app": "Chrome", "title": "Order admin", "url": "https://admin.example/orders/4711"}
FORM = [
    {"box": [40, 30, 300, 30], "text": "Customer"},
    {"box": [40, 100, 400, 24], "text": "연락처: <phone>"},
    {"box": [40, 140, 120, 24], "text": "E-mail"},
    {"box": [200, 140, 300, 24], "text": ""},
    {"box": [40, 300, 100, 30], "text": "Save"},
]


def _frame(
    n: int, lines: list[dict[str, Any]], changed: list[list[int]], window: dict[str, str] | None = ADMIN
) -> dict[str, Any]:
    return {"frame": n, "t": float(n), "user": "u-3f2a", "window": window, "lines": lines, "changed": changed}


def _write(tmp_path: Path, frames: list[dict[str, Any]], header: bool = True) -> Path:
    path = tmp_path / "rec.textlayer.jsonl"
    rows = [{"veil_text_layer": 1, "started": "2026-11-23T09:00:00Z", "size": [1280, 720]}] if header else []
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + frames), encoding="utf-8"
    )
    return path


def _with(lines: list[dict[str, Any]], index: int, text: str) -> list[dict[str, Any]]:
    out = [dict(li) for li in lines]
    out[index]["text"] = text
    return out


def test_reader_anchors_time_and_keeps_boxes(tmp_path: Path) -> None:
    frames = list(read_text_layer(_write(tmp_path, [_frame(0, FORM, [])])))
    assert len(frames) == 1
    f = frames[0]
    assert f.time.isoformat() == "2026-11-23T09:00:00+00:00"
    assert f.size == (1280, 720)
    assert f.lines[1].text == "연락처: <phone>" and f.lines[1].box.as_list() == [40, 100, 400, 24]


@pytest.mark.parametrize(
    "bad",
    ["not json", "[1, 2]", json.dumps({"t": 1.0}), json.dumps({"frame": 1, "t": 1, "lines": [{"box": [1]}]})],
)
def test_malformed_line_names_its_number(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_frame(0, FORM, [])) + "\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        list(read_text_layer(path))


def test_typing_over_consecutive_frames_is_one_event_with_label_and_type(tmp_path: Path) -> None:
    value_box = [200, 140, 300, 24]
    frames = [_frame(0, FORM, [])]
    frames += [_frame(n, _with(FORM, 3, "<email>"), [value_box]) for n in (1, 2, 3)]
    frames += [_frame(4, _with(FORM, 3, "<email>"), [[40, 100, 400, 24]])]  # the labelled phone line
    frames += [_frame(5, _with(FORM, 3, "<email>"), [[40, 300, 100, 30]])]  # Save highlights
    events = derive_events(read_text_layer(_write(tmp_path, frames)))
    got = [(e.action, e.target, e.value) for e in events]
    assert got == [
        (Action.SWITCH, "Order admin", ""),
        (Action.TYPE, "E-mail", "<email>"),
        (Action.TYPE, "연락처", "<phone>"),
        (Action.CLICK, "Save", ""),
    ]
    assert events[1].extra_value("frame") == "1"


def test_window_changes_scrolls_and_whole_screen_changes(tmp_path: Path) -> None:
    rows = [{"box": [40, 60 + 40 * k, 600, 24], "text": f"Message {chr(65 + k)}"} for k in range(6)]
    scrolled = [{"box": [r["box"][0], r["box"][1] - 40, 600, 24], "text": r["text"]} for r in rows]
    other_page = {**ADMIN, "url": "https://admin.example/orders/4712", "title": "Order 4712"}
    mail = {"app": "Outlook", "title": "Inbox", "url": ""}
    frames = [
        _frame(0, rows, [], mail),
        _frame(1, scrolled, [[40, 20, 600, 300]], mail),
        _frame(2, FORM, [[0, 0, 1280, 720]], ADMIN),
        _frame(3, FORM, [[0, 0, 1280, 720]], other_page),
        _frame(4, rows, [[0, 0, 1280, 720]], other_page),
    ]
    events = derive_events(read_text_layer(_write(tmp_path, frames)))
    got = [(e.app, e.action, e.target) for e in events]
    assert got == [
        ("Outlook", Action.SWITCH, "Inbox"),
        ("Outlook", Action.SCROLL, "down"),
        ("Chrome", Action.SWITCH, "Order admin"),
        ("Chrome", Action.NAVIGATE, "Order <number>"),
        ("Chrome", Action.SWITCH, "Message A"),
    ]
    assert events[3].url == "https://admin.example/orders/<id>"


def test_screen_signature_is_stable_while_values_change(tmp_path: Path) -> None:
    a = list(
        read_text_layer(
            _write(tmp_path, [_frame(0, FORM, []), _frame(1, _with(FORM, 1, "연락처: Customer 7"), [])])
        )
    )
    assert screen_signature(a[0].window, a[0].lines) == screen_signature(a[1].window, a[1].lines)
    # With window metadata the window says which screen it is, even when OCR drops a label.
    dropped = list(read_text_layer(_write(tmp_path, [_frame(0, FORM[1:], [])])))
    assert screen_signature(dropped[0].window, dropped[0].lines) == screen_signature(a[0].window, a[0].lines)
    # Without it, the labels do: another button is another screen.
    bare = list(read_text_layer(_write(tmp_path, [_frame(0, FORM, [], None)])))
    other = list(read_text_layer(_write(tmp_path, [_frame(0, _with(FORM, 4, "Delete"), [], None)])))
    assert screen_signature(bare[0].window, bare[0].lines) != screen_signature(
        other[0].window, other[0].lines
    )
