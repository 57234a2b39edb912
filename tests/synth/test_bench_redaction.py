"""The benchmark harness with stand-in redactors (no OCR): scoring, table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bench import redaction
from rich.console import Console

from veil.models import Pixels
from veil.synth.fakedata import LANGUAGES
from veil.synth.screens import SCENE_KINDS, render_screen


def _nothing(pixels: Pixels, language: str) -> tuple[Pixels, bool]:
    return pixels, False


def _everything(pixels: Pixels, language: str) -> tuple[Pixels, bool]:
    return np.zeros_like(pixels), True


def test_specs_cover_every_language_and_kind() -> None:
    specs = redaction.bench_specs(20, seed=1)
    assert {(s.language, s.kind) for s in specs} == {(lang, k) for lang in LANGUAGES for k in SCENE_KINDS}


def test_harness_scores_stand_ins(tmp_path: Path) -> None:
    specs = [s for s in redaction.bench_specs(4, seed=2)]
    specs = [s.__class__(s.kind, s.language, s.theme, s.font_px, (1280, 720), s.seed) for s in specs]
    console = Console(file=open(tmp_path / "log", "w"))  # noqa: SIM115
    runs = redaction.run_all(specs, {"none": _nothing, "all": _everything}, console)
    none, full = runs
    assert none.score.counts().redacted == 0 and none.score.counts().instances > 0
    assert full.score.counts().recall == 1.0 and full.score.decoy_rate == 1.0
    assert full.masked_whole == 4 and none.masked_whole == 0
    assert 0.5 < full.score.outside_share < 1.0
    out = tmp_path / "table.txt"
    with out.open("w") as fh:
        Console(file=fh, width=200).print(redaction.render_table(runs, len(specs)))
    text = out.read_text()
    assert "none recall" in text and "ALL structured" in text and "decoys masked" in text
    data = redaction.to_json(runs, specs)
    json.dumps(data)  # serialisable
    assert data["redactors"]["all"]["frames_masked_whole"] == 4


def test_no_value_reaches_the_table(tmp_path: Path) -> None:
    specs = redaction.bench_specs(2, seed=3)
    console = Console(file=open(tmp_path / "log", "w"))  # noqa: SIM115
    runs = redaction.run_all(specs, {"none": _nothing}, console)
    data = json.dumps(redaction.to_json(runs, specs))
    for spec in specs:
        for item in render_screen(spec).items:
            assert item.value not in data


def test_peer_missing_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import presidio_peer

    monkeypatch.setattr(presidio_peer.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(presidio_peer.PeerUnavailable, match="--no-peer") as info:
        presidio_peer.check_installed()
    assert "presidio-image-redactor==" in str(info.value)
