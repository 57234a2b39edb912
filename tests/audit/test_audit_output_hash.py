"""Issue #14: the ledger records the SHA-256 of every file a run publishes (output, report, text
layer), and `veil audit verify-output` names the entry a file matches; a changed file matches none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audit.test_audit_redact_e2e import _image, _veil


@pytest.mark.slow
def test_outputs_are_hashed_in_the_ledger_and_a_tampered_one_matches_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = tmp_path / "shot_redacted.png"
    done = _veil(
        ["redact", str(_image(tmp_path / "shot.png", "Mail lena.berg@example.org")), "-o", str(out)], home
    )
    assert done.returncode == 0, done.stderr
    files = {
        "output": out,
        "report": tmp_path / "shot_redacted.report.json",
        "text-layer": tmp_path / "shot_redacted.textlayer.jsonl",
    }
    recording = json.loads(files["report"].read_text(encoding="utf-8"))["summary"]["recording_id"]
    for role, path in files.items():
        checked = _veil(["audit", "verify-output", str(path), "--json"], home)
        assert checked.returncode == 0, checked.stderr
        matches = json.loads(checked.stdout)["matches"]
        assert [(m["role"], m["recording_id"]) for m in matches] == [(role, recording)]
    # one byte changed: no entry records it
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    tampered = _veil(["audit", "verify-output", str(out)], home)
    assert tampered.returncode == 7 and "no ledger entry records" in " ".join(tampered.stderr.split())
    layer = files["text-layer"]
    layer.write_text(layer.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _veil(["audit", "verify-output", str(layer)], home).returncode == 7
    # the input (its e-mail address masked in the output) is not an output
    assert _veil(["audit", "verify-output", str(tmp_path / "shot.png")], home).returncode == 7
