"""The organisation's own rules and the US/UK identifiers, end to end: `veil policy init|show`,
custom patterns with checksums and labels, allow- and deny-lists, and a rendered English form whose
SSN, NI number, EIN and employee id must be masked on the output pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw, ImageFont
from stdnum import luhn

from veil.__main__ import main
from veil.api import RunOptions, redact_file
from veil.detect.registry import default_analyzer
from veil.gateway.policy import EgressPolicy
from veil.options import DetectOptions, Policy, load_policy
from veil.policy_cli import template_text

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
EMPLOYEE = "EMP-" + "48213" + luhn.calc_check_digit("48213")
EMPLOYEE_BAD = EMPLOYEE[:-1] + str((int(EMPLOYEE[-1]) + 1) % 10)
EMPLOYEE_RULE = {
    "type": "employee_id",
    "regex": r"EMP-(?P<check>\d{6})",
    "checksum": "luhn",
    "labels": ["employee id", "사번"],
}


def _write(tmp_path: Path, policy: dict[str, object]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


def test_the_template_is_valid_and_holds_the_embedded_defaults(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(template_text(), encoding="utf-8")
    assert load_policy(path) == Policy()
    raw = yaml.safe_load(template_text())
    assert EgressPolicy.model_validate(raw["egress"]) == EgressPolicy()


def test_init_writes_once_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    assert main(["policy", "init", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == template_text()
    out.write_text("ocr: {threads: 1}\n", encoding="utf-8")
    assert main(["policy", "init", "-o", str(out)]) == 8
    assert out.read_text(encoding="utf-8") == "ocr: {threads: 1}\n"


def test_show_prints_the_effective_policy_without_deny_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, {"ocr": {"threads": 1}, "detect": {"deny": ["Nightingale", "Larkspur"]}})
    assert main(["policy", "show", "--policy", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ocr"]["threads"] == 1 and shown["ocr"]["engine"] == "auto"
    assert shown["detect"]["deny"] == ["<2 terms, see the policy file>"]
    assert shown["egress"]["kill_switch"] is False


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"type": "employee_id", "regex": "EMP-(\\d{6}"}, "not a valid regular expression"),
        ({"type": "employee_id", "regex": "\\d*"}, "matches the empty string"),
        ({"type": "employee_id", "regex": "E\\d+", "checksum": "nosuch"}, "no module 'nosuch'"),
        ({"type": "employee_id", "regex": "E\\d+", "checksum": "os.path"}, "no module"),
        ({"type": "Employee ID", "regex": "E\\d+"}, "type must be lower-case"),
        ({"type": "employee_id", "regex": "E\\d+", "needs_label": True}, "no labels are given"),
        ({"type": "employee_id", "regex": "E\\d+", "colour": "red"}, "unknown key"),
    ],
)
def test_a_bad_custom_pattern_stops_the_run_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: dict[str, object], words: str
) -> None:
    path = _write(tmp_path, {"detect": {"patterns": [rule]}})
    assert main(["policy", "show", "--policy", str(path)]) == 4
    err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert "detect.patterns" in err and words in err


def test_a_custom_pattern_is_checked_and_labelled() -> None:
    analyzer = default_analyzer(DetectOptions.model_validate({"patterns": [EMPLOYEE_RULE]}))
    assert [s.type for s in analyzer.analyze(f"Badge {EMPLOYEE} issued")] == ["employee_id"]
    assert analyzer.analyze(f"Badge {EMPLOYEE_BAD} issued") == []  # Luhn fails
    # Its labels announce it: masked while typed, beside or under the label.
    assert [(s.start, s.end, s.type) for s in analyzer.analyze("EMP-48", context="사번")] == [
        (0, 6, "employee_id")
    ]
    assert default_analyzer().analyze(f"Badge {EMPLOYEE} issued") == []  # not without the policy


def test_needs_label_masks_only_next_to_a_label() -> None:
    rule = {"type": "case_ref", "regex": r"\b[A-Z]{2}\d{5}\b", "labels": ["case"], "needs_label": True}
    analyzer = default_analyzer(DetectOptions.model_validate({"patterns": [rule]}))
    assert [s.type for s in analyzer.analyze("Case AB12345")] == ["case_ref"]
    assert analyzer.analyze("Ticket AB12345") == []


def test_allow_list_spares_exactly_its_values() -> None:
    analyzer = default_analyzer(DetectOptions(allow=("02-1588-0000",)))
    assert analyzer.analyze("고객센터 02-1588-0000") == []
    assert [s.type for s in analyzer.analyze("연락처 02-1588-0001")] == ["phone"]
    assert [s.type for s in default_analyzer().analyze("연락처 02-1588-0000")] == ["phone"]


def test_deny_list_masks_terms_as_whole_words() -> None:
    analyzer = default_analyzer(DetectOptions(deny=("Nightingale", "나이팅게일")))
    assert [(s.start, s.end, s.type) for s in analyzer.analyze("Re: NIGHTINGALE rollout")] == [
        (4, 15, "denied_term")
    ]
    assert analyzer.analyze("Nightingales sing") == []
    assert [s.type for s in analyzer.analyze("나이팅게일프로젝트 일정")] == ["denied_term"]


def _form(path: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    """An English HR form; returns (value, box) of each value that must be masked."""
    image = Image.new("RGB", (1100, 420), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 22)
    rows = [
        ("SSN (for the tax form): ", "512-43-6789"),
        ("National Insurance number: ", "JG 12 34 56 C"),
        ("EIN: ", "12-3456789"),
        ("Employee ID: ", EMPLOYEE),
        ("Project: ", "Nightingale"),
    ]
    boxes = []
    for i, (label, value) in enumerate(rows):
        y = 30 + 70 * i
        draw.text((40, y), label, fill="black", font=font)
        x = 40 + int(draw.textlength(label, font=font))
        draw.text((x, y), value, fill="black", font=font)
        boxes.append((value, draw.textbbox((x, y), value, font=font)))
    draw.text((40, 380), "Order 2024-118843 shipped", fill="black", font=font)
    image.save(path)
    return [(v, (int(a), int(b), int(c), int(d))) for v, (a, b, c, d) in boxes]


@pytest.mark.slow
def test_a_rendered_english_form_leaves_no_identifier_readable(tmp_path: Path) -> None:
    src = tmp_path / "form.png"
    values = _form(src)
    policy = Policy.model_validate({"detect": {"patterns": [EMPLOYEE_RULE], "deny": ["Nightingale"]}})
    report = redact_file(src, RunOptions(policy, output=tmp_path / "out.png"))
    assert report.frames_masked == 0
    out = np.asarray(Image.open(tmp_path / "out.png").convert("L"))
    original = np.asarray(Image.open(src).convert("L"))
    for _value, (x1, y1, x2, y2) in values:
        ink = original[y1:y2, x1:x2] < 128
        covered = out[y1:y2, x1:x2][ink] < 40
        assert covered.mean() >= 0.95
    # Labels and the order number stay readable: masking is not the whole screen.
    assert (out[380:400, 40:300] > 128).mean() > 0.5
