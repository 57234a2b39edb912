"""`veil redact --engine ray` from the command line; `veil mine --engine ray`: events derived per
recording as Ray tasks and the segmentation as a task give the local path's events, cases and
candidates, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from veil.exceptions import InputError
from veil.mining.cli import MineOptions, mine
from veil.mining.synth_recording import generate_recording


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layers")
    for n in range(6):  # three people, two recordings each
        generate_recording(folder / f"rec{n}.textlayer.jsonl", repeats=4, seed=n, user=f"u-{n % 3:04x}")
    return folder


def test_ray_mining_equals_local(ray: Any, layers: Path, tmp_path: Path) -> None:
    local = mine([layers], tmp_path / "local", MineOptions(xes=False))
    remote = mine([layers], tmp_path / "ray", MineOptions(xes=False, engine="ray"))
    assert remote.events == local.events > 0
    assert remote.candidates == local.candidates and local.candidates
    csv = (tmp_path / "local" / "events.csv").read_bytes()
    assert (tmp_path / "ray" / "events.csv").read_bytes() == csv
    assert len({line.split(b",")[0] for line in csv.splitlines()}) > 1  # several cases in it


def test_ray_mining_broken_text_layer_is_an_input_error(ray: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.textlayer.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError) as local:
        mine([bad], tmp_path / "a", MineOptions(xes=False))
    with pytest.raises(InputError) as remote:
        mine([bad], tmp_path / "b", MineOptions(xes=False, engine="ray"))
    assert str(remote.value) == str(local.value)


def test_cli_redact_engine_ray(
    ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from tests.test_cli import text_image
    from veil.__main__ import main

    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))  # the actors take the driver's home
    value = "alice.martin@example.com"
    src = text_image(tmp_path / "mail.png", f"From: {value}")
    assert main(["redact", str(src), "--engine", "ray", "--json"]) == 0
    out = capsys.readouterr()
    report = (tmp_path / "mail_redacted.report.json").read_text(encoding="utf-8")
    layer = (tmp_path / "mail_redacted.textlayer.jsonl").read_text(encoding="utf-8")
    for text in (out.out, out.err, report, layer):
        assert value not in text and "alice" not in text
    assert json.loads(out.out)["findings_by_type"] == {"email": 1}
    assert json.loads(report)["summary"]["change_tracking"]["workers"] == 1
    assert main(["redact", str(src), "--engine", "spark"]) == 2


def test_veil_does_not_import_ray_unless_asked() -> None:
    code = "import sys, veil.api, veil.cli, veil.mining.cli, veil.workers; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_cli_mine_engine_ray(
    ray: Any, layers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from veil.__main__ import main

    runs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        assert main(["mine", str(layers), "-o", str(out), "--no-xes", "--json", "--engine", engine]) == 0
        summary = json.loads(capsys.readouterr().out)
        runs[engine] = (summary["events"], summary["candidates"], (out / "events.csv").read_bytes())
    assert runs["ray"] == runs["local"] and runs["ray"][1]


def test_ray_tasks_need_no_access_to_the_driver_s_files(
    ray: Any, layers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster the worker nodes do not see the driver's folders (`veil serve` reads the layers
    from the store into a temporary one): each layer is sent as bytes. Here every layer is gone
    from disk the moment the driver has read it, before its task runs."""
    import shutil

    from veil.mining.cli import load_events as local_load
    from veil.scale import mining as ray_mining

    copy = tmp_path / "layers"
    shutil.copytree(layers, copy)
    files = sorted(copy.glob("*.textlayer.jsonl"))
    local, _ = local_load(files, "local")
    read = ray_mining._layer_bytes

    def read_then_remove(path: Path) -> bytes:
        data = read(path)
        path.unlink()
        return data

    monkeypatch.setattr(ray_mining, "_layer_bytes", read_then_remove)
    remote, _ = ray_mining.load_events([("textlayer", f) for f in files])
    assert not list(copy.glob("*.jsonl"))  # really gone before the tasks ran
    assert remote == local and local
