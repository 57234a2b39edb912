"""The policy file is validated once, at the edge; bad config stops the run, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.exceptions import PolicyError
from veil.options import Policy, load_policy


def test_no_file_gives_embedded_defaults() -> None:
    assert load_policy(None) == Policy()


def test_valid_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "redact:\n  margin_px: 9\nocr:\n  engine: tesseract\nscale:\n  workers: 3\n", encoding="utf-8"
    )
    policy = load_policy(path)
    assert policy.redact.margin_px == 9
    assert policy.ocr.engine == "tesseract"
    assert (policy.scale.workers, policy.scale.segment_frames) == (3, 150)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("redact:\n  margin: 9\n", "unknown key 'redact.margin' (did you mean 'margin_px'?)"),
        ("redcat:\n  margin_px: 9\n", "unknown key 'redcat' (did you mean 'redact'?)"),
        ("ocr:\n  engine: paddle\n", "invalid value for 'ocr.engine'"),
        ("redact:\n  margin_px: -1\n", "invalid value for 'redact.margin_px'"),
        ("redact: [1, 2\n", "not valid YAML at line"),
        ("scale:\n  workers: 0\n", "invalid value for 'scale.workers'"),
        ("scale:\n  segment: 9\n", "unknown key 'scale.segment' (did you mean 'segment_frames'?)"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_policy_names_the_problem(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert expected in str(info.value)
    assert info.value.exit_code == 4


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "absent.yaml")
