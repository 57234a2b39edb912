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
import veil.exceptions
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


@pytest.mark.slow
def test_redact_gets_checkpoints_cosigned_by_a_witness_process(tmp_path: Path) -> None:
    """`veil witness serve` in its own process; `veil redact` with the policy's witnesses gets its
    checkpoint cosigned; `veil audit verify --witness` accepts that ledger and refuses one rebuilt
    and re-signed with a copy of the ledger key."""
    import shutil

    from veil.audit.anchor import Anchor, write_anchor
    from veil.audit.cosign import WitnessVerifier
    from veil.audit.events import DeletionEvent
    from veil.audit.keys import load_or_create_signer
    from veil.audit.store import Ledger
    from veil.audit.witness import WitnessEndpoint

    home = tmp_path / "home"
    assert _veil(["redact", str(_image(tmp_path / "a.png", "Weekly planning notes"))], home).returncode == 0
    keys = home / "ledger-keys"
    src = str(Path(veil.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    serve = [sys.executable, "-m", "veil", "witness", "serve", "--port", "0"]
    witness = subprocess.Popen(
        [*serve, "--key-dir", str(tmp_path / "w"), "--log", str(keys / "ledger.vkey")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert witness.stdout is not None and witness.stderr is not None
        vkey = witness.stdout.readline().strip()
        seen = [witness.stderr.readline() for _ in range(1)]
        while "listening on" not in seen[-1] and seen[-1] and len(seen) < 50:
            seen.append(witness.stderr.readline())  # skip warnings printed at import
        url = seen[-1].strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), seen
        policy = tmp_path / "policy.yaml"
        policy.write_text(
            f"ledger:\n  witnesses:\n    - url: '{url}'\n      vkey: '{vkey}'\n", encoding="utf-8"
        )
        image = _image(tmp_path / "b.png", "Budget review draft")
        done = _veil(["redact", str(image), "--policy", str(policy)], home)
        assert done.returncode == 0, done.stderr
        ok = _veil(["audit", "verify", "--witness", vkey], home)
        assert ok.returncode == 0, ok.stdout
        # The thief's copy of the key signs another history; the witness will not cosign it.
        stolen = tmp_path / "stolen"
        shutil.copytree(keys, stolen)
        (stolen / "ledger.state").unlink()
        write_anchor(stolen / "ledger.state", Anchor(), load_or_create_signer(stolen))
        forged_db = f"sqlite:///{tmp_path / 'forged.sqlite3'}"
        endpoint = WitnessEndpoint(url, WitnessVerifier.from_vkey(vkey))
        with Ledger.open(forged_db, stolen, witnesses=[endpoint]) as forged:
            for i in range(5):
                forged.append(DeletionEvent(f"rec-{i}", "raw-recording", "request"))
            with pytest.raises(veil.exceptions.LedgerError, match="history rewritten"):
                forged.checkpoint()
        refused = _veil(
            ["audit", "verify", "--db", forged_db, "--key-dir", str(stolen), "--witness", vkey], home
        )
        assert refused.returncode == 7 and "no cosignature by witness" in " ".join(refused.stdout.split())
    finally:
        witness.terminate()
        witness.wait(timeout=30)
