"""Issue #14, attack 1 end to end: after a database-only rewrite of the ledger, the next ordinary
`python -m veil redact` must not sign the forged tree: it exits 7 naming the first bad entry, and
the ledger cannot be exported as if it were good."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import create_engine, text

import veil
from veil.audit import merkle
from veil.audit.events import canonical_json

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _veil(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    src = str(Path(veil.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "VEIL_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("VEIL_LEDGER_KEY_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "veil", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _image(path: Path, words: str) -> Path:
    image = Image.new("RGB", (420, 60), "white")
    ImageDraw.Draw(image).text((10, 14), words, fill="black", font=ImageFont.truetype(FONT, 22))
    image.save(path)
    return path


def _rewrite_history(db: Path) -> None:
    """No key needed: change entry 0, recompute its hash and the state row, drop the checkpoints."""
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        body = conn.execute(text("SELECT body FROM veil_ledger_entries WHERE seq = 0")).scalar_one()
        data = json.loads(bytes(body))
        data["event"]["frames"] = 999
        forged = canonical_json(data)
        conn.execute(
            text("UPDATE veil_ledger_entries SET body = :b, leaf_hash = :h WHERE seq = 0"),
            {"b": forged, "h": merkle.leaf_hash(forged)},
        )
        conn.execute(text("DELETE FROM veil_ledger_checkpoints"))
        frontier = merkle.Frontier()
        for leaf in conn.execute(text("SELECT leaf_hash FROM veil_ledger_entries ORDER BY seq")).scalars():
            frontier.append(bytes(leaf))
        conn.execute(
            text("UPDATE veil_ledger_state SET size = :n, frontier = :f"),
            {"n": frontier.size, "f": frontier.to_bytes()},
        )
    engine.dispose()


@pytest.mark.slow
def test_redact_refuses_to_sign_a_rewritten_ledger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _veil(["redact", str(_image(tmp_path / "a.png", "Weekly planning notes"))], home)
    assert first.returncode == 0, first.stderr
    _rewrite_history(home / "ledger.sqlite3")
    second = _veil(["redact", str(_image(tmp_path / "b.png", "Budget review draft"))], home)
    assert second.returncode == 7, second.stderr
    message = " ".join(second.stderr.split())  # rich wraps long lines
    assert "entry 0" in message and "Traceback" not in message
    exported = _veil(["audit", "export", str(tmp_path / "export")], home)
    assert exported.returncode == 7, exported.stdout
    verified = _veil(["audit", "verify"], home)
    assert verified.returncode == 7 and "entry 0" in " ".join(verified.stdout.split())
