from __future__ import annotations

from pathlib import Path

import pytest

from veil.exceptions import InputError
from veil.mining.actionlogger import action_of, read_action_logger
from veil.mining.base import Action

HEADER = (
    "timeStamp,userID,targetApp,eventType,url,content,target.id,target.name,target.value,myTeam,comment\n"
)


def _write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_columns_are_kept_and_values_become_types(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "2026-03-03T10:00:01.000Z,jdoe,Chrome,editField,https://crm.example/c/8812?mail=a@b.fr,"
        "jane.doe@example.com,f1,E-mail,,Billing,call +33 6 12 34 56 78\n"
        "2026-03-03T10:00:00.000Z,jdoe,Excel,paste,,,A1,Phone column,010-1234-5678,Billing,ok\n",
    )
    events = read_action_logger(path)
    assert [e.action for e in events] == [Action.PASTE, Action.TYPE]  # sorted by time
    typed = events[1]
    assert typed.value == "<email>"
    assert typed.url == "https://crm.example/c/<id>"
    assert typed.user == "user-1" and events[0].user == "user-1"
    assert typed.extra_value("myTeam") == "Billing"
    assert typed.extra_value("comment") == "call <phone>"
    assert events[0].value == "<phone>"


def test_missing_optional_columns_are_tolerated(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "timeStamp,eventType\n2026-03-03 10:00:00,clickButton\n2026-03-03 10:00:05,copy\n"
    )
    events = read_action_logger(path)
    assert [e.action for e in events] == [Action.CLICK, Action.COPY]
    assert events[0].user == "user-1" and events[0].app == "" and events[0].extra == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("userID,eventType\nx,click\n", "missing column"),
        ("timeStamp,eventType\n", "no events"),
        ("timeStamp,eventType\nyesterday-ish,click\n", "line 2"),
        ("", "unreadable"),
    ],
)
def test_bad_files_raise_input_error(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_action_logger(_write(tmp_path, content))


def test_binary_and_missing_files_raise_input_error(tmp_path: Path) -> None:
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(InputError):
        read_action_logger(binary)
    with pytest.raises(InputError, match="not found"):
        read_action_logger(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("event_type", "action"),
    [
        ("clickButton", Action.CLICK),
        ("editField", Action.TYPE),
        ("changeField", Action.TYPE),
        ("paste", Action.PASTE),
        ("copyCell", Action.COPY),
        ("selectTab", Action.SWITCH),
        ("clickLink", Action.NAVIGATE),
        ("selectOptions", Action.SELECT),
        ("getCell", Action.SELECT),
        ("scroll", Action.SCROLL),
        ("somethingElse", Action.OTHER),
    ],
)
def test_event_types_map_to_actions(event_type: str, action: Action) -> None:
    assert action_of(event_type) is action
