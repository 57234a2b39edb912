"""How `veil redact` writes its files (issue #14, holes 7 and 8, and file names in messages):
the ledger records a run before any output takes its final name; unfinished files live in a
private run folder (never a fixed name a planted link could redirect); an output is locked for
the run; a full disk ends in exit 8 with nothing half-written; what a killed run left is removed
by the next one; personal values in file names are never shown."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import text_image
from veil.__main__ import main
from veil.runfiles import (
    PREFIX,
    OutputLock,
    make_run_folder,
    owner_alive,
    owner_tag,
    sweep,
    write_journal,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def veil_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("VEIL_HOME", str(home))
    monkeypatch.delenv("VEIL_FAULT_INJECTION", raising=False)
    return home


@pytest.fixture
def fast_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "policy.yaml"
    policy.write_text("detect:\n  faces: false\n", encoding="utf-8")
    return policy


def hidden(folder: Path) -> list[str]:
    """What a run may leave behind: run folders, lock files, temporary files (all hidden)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def outputs(folder: Path, stem: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(stem + "_redacted"))


def ledger_verifies() -> bool:
    return main(["audit", "verify"]) == 0


# -- hole 7: the order of commits -------------------------------------------------------------------
def test_ledger_key_readable_by_others_keeps_no_output(
    tmp_path: Path, veil_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = text_image(tmp_path / "first.png", "Quarterly report draft")
    assert main(["redact", str(first)]) == 0  # makes the ledger and its key
    key = veil_home / "ledger-keys" / "ledger.key"
    key.chmod(0o644)
    capsys.readouterr()
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src)]) == 7
    err = capsys.readouterr().err
    assert err.startswith("veil: error:") and "no output was kept" in " ".join(err.split())
    assert outputs(tmp_path, "shot") == []  # no image, no report, no text layer
    assert hidden(tmp_path) == []


def test_read_only_ledger_keeps_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "ledger.sqlite3"
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"ledger:\n  url: sqlite:///{database}\n", encoding="utf-8")
    first = text_image(tmp_path / "first.png", "Quarterly report draft")
    assert main(["redact", str(first), "--policy", str(policy)]) == 0
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    policy.write_text(f"ledger:\n  url: '{read_only}'\n", encoding="utf-8")
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    capsys.readouterr()
    assert main(["redact", str(src), "--policy", str(policy)]) == 7
    assert "no output was kept" in " ".join(capsys.readouterr().err.split())
    assert outputs(tmp_path, "shot") == []
    assert hidden(tmp_path) == []


def test_every_output_has_its_ledger_entry_before_its_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the ledger records the run, no output of the run is under its final name yet."""
    import veil.audit.record

    seen: list[list[str]] = []
    real = veil.audit.record.record_redaction

    def spy(*args: object) -> str:
        seen.append(outputs(tmp_path, "shot"))
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(veil.audit.record, "record_redaction", spy)
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src)]) == 0
    assert seen == [[]]
    assert outputs(tmp_path, "shot") == [
        "shot_redacted.png",
        "shot_redacted.report.json",
        "shot_redacted.textlayer.jsonl",
    ]
    report = json.loads((tmp_path / "shot_redacted.report.json").read_text(encoding="utf-8"))
    assert report["summary"]["recording_id"]


def test_report_in_another_folder(tmp_path: Path) -> None:
    other = tmp_path / "reports"
    other.mkdir()
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src), "--report", str(other / "r.json")]) == 0
    report = json.loads((other / "r.json").read_text(encoding="utf-8"))
    assert report["summary"]["frames"] == len(report["frames"]) == 1
    assert hidden(tmp_path) == [] and hidden(other) == []


def test_folder_output_takes_its_name_last(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    for name in ("a.png", "b.png"):
        text_image(shots / name, "Quarterly report draft")
    assert main(["redact", str(shots), "-o", str(tmp_path / "clean")]) == 0
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["a.png", "b.png"]
    assert (tmp_path / "clean.report.json").exists() and (tmp_path / "clean.textlayer.jsonl").exists()
    assert hidden(tmp_path) == [] and hidden(shots) == []


# -- hole 8: files ------------------------------------------------------------------------------------
def test_planted_links_at_the_old_fixed_temporary_names_are_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    planted = [
        tmp_path / ".shot_redacted.textlayer.jsonl.tmp",
        tmp_path / ".shot_redacted.report.json.tmp",
    ]
    for link in planted:
        link.symlink_to(victim)
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src)]) == 0
    assert victim.read_text(encoding="utf-8") == "precious\n"
    for link in planted:
        assert link.is_symlink()  # not ours: left alone, never written through
    for name in ("shot_redacted.textlayer.jsonl", "shot_redacted.report.json"):
        assert not (tmp_path / name).is_symlink()


def test_a_link_planted_at_the_lock_name_stops_the_run(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (tmp_path / ".shot_redacted.png.veil-lock").symlink_to(victim)
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src)]) == 8
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert outputs(tmp_path, "shot") == []


def test_run_folder_is_private(tmp_path: Path) -> None:
    folder = make_run_folder(tmp_path)
    assert folder.name.startswith(PREFIX + owner_tag() + "-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_second_run_to_a_locked_output_exits_8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    out = tmp_path / "out.png"
    with OutputLock([out]):
        assert main(["redact", str(src), "-o", str(out)]) == 8
        err = capsys.readouterr().err
        assert "another veil run is writing this output" in " ".join(err.split())
        assert "Traceback" not in err
        assert not out.exists()
    assert main(["redact", str(src), "-o", str(out)]) == 0  # the lock went with its holder
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("step", [0, 1, 2, 3, 4, 5])
def test_disk_full_exits_8_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], step: int
) -> None:
    """Steps 0-2: the frame's output, text-layer line, report record; 3: finishing the output;
    4: the report; 5: the renames."""
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    monkeypatch.setenv("VEIL_FAULT_INJECTION", f"enospc:{step}")
    assert main(["redact", str(src)]) == 8
    err = capsys.readouterr().err
    assert err.startswith("veil: error:") and "disk full" in err
    assert "Traceback" not in err
    assert outputs(tmp_path, "shot") == []
    assert hidden(tmp_path) == []


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 128 KiB tmpfs: a real full disk (needs root to mount, as in CI's container)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)], check=False)
    if done.returncode != 0:
        pytest.skip("this container may not mount a tmpfs")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_exits_8_and_leaves_nothing(
    tmp_path: Path, tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    from PIL import Image

    src = tmp_path / "noise.png"
    noise = np.random.default_rng(0).integers(0, 255, (400, 600, 3), dtype=np.uint8)
    Image.fromarray(noise).save(src)  # ~700 KB as PNG: does not fit
    assert main(["redact", str(src), "-o", str(tiny_disk / "out.png")]) == 8
    err = capsys.readouterr().err
    assert "disk full" in err and "Traceback" not in err
    assert list(tiny_disk.iterdir()) == []


def test_fault_injection_is_inert_unless_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    monkeypatch.setenv("VEIL_FAULT_INJECTION", "")
    assert main(["redact", str(src)]) == 0


# -- stale files of dead runs ---------------------------------------------------------------------------
def test_sweep_removes_dead_runs_files_and_never_a_live_runs(tmp_path: Path) -> None:
    live = make_run_folder(tmp_path)
    boot, pid, start = owner_tag().split("-")
    dead_pid = tmp_path / f"{PREFIX}{boot}-{2**22 + 17}-{start}-abc123"  # no such process
    reused_pid = tmp_path / f"{PREFIX}{boot}-{pid}-{int(start) + 1}-abc123"  # same pid, other process
    rebooted = tmp_path / f"{PREFIX}000000000000-{pid}-{start}-abc123"
    for folder in (dead_pid, reused_pid, rebooted):
        folder.mkdir()
        (folder / "output-x.mp4").write_bytes(b"redacted pixels")
    not_ours = tmp_path / ".veil-run-notes"
    not_ours.mkdir()
    assert sweep(tmp_path) == 3
    assert live.is_dir() and not_ours.is_dir()
    assert not dead_pid.exists() and not reused_pid.exists() and not rebooted.exists()


def test_a_killed_run_not_yet_reaped_counts_as_dead(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tag = owner_tag(child.pid)
        assert owner_alive(tag)
        child.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while owner_alive(tag) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not owner_alive(tag)  # a zombie: its parent has not waited for it yet
    finally:
        child.kill()
        child.wait()


def test_a_run_killed_between_its_renames_is_rolled_forward(tmp_path: Path) -> None:
    """Killed after the ledger entry and its text layer's rename: the next run in the folder
    finishes the renames, so the output is never left without its report (or the reverse)."""
    boot, _, start = owner_tag().split("-")
    dead = tmp_path / f"{PREFIX}{boot}-{2**22 + 17}-{start}-abc123"
    dead.mkdir()
    final = [tmp_path / n for n in ("a_redacted.textlayer.jsonl", "a_redacted.report.json", "a_redacted.png")]
    staged = [dead / "textlayer.jsonl", dead / "report.json", dead / "output.png"]
    for path in staged[1:]:
        path.write_bytes(b"finished")
    final[0].write_bytes(b"finished")  # renamed before the kill
    write_journal(dead, [final[2], final[1]], list(zip(staged, final, strict=True)))
    assert sweep(tmp_path) == 1
    assert all(p.read_bytes() == b"finished" for p in final)
    assert hidden(tmp_path) == []


def test_stale_lock_file_is_taken_over_and_removed(tmp_path: Path) -> None:
    (tmp_path / ".shot_redacted.png.veil-lock").write_bytes(b"")  # left by a killed run
    src = text_image(tmp_path / "shot.png", "Quarterly report draft")
    assert main(["redact", str(src)]) == 0
    assert hidden(tmp_path) == []


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}", OMP_NUM_THREADS="1", VEIL_HOME=str(home))
    env.pop("VEIL_FAULT_INJECTION", None)
    env.update(extra)
    return env


def _redact_cmd(src: Path, out: Path, policy: Path) -> list[str]:
    return [sys.executable, "-m", "veil", "redact", str(src), "-o", str(out), "--policy", str(policy)]


@pytest.fixture(scope="module")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from veil.synth.recording import make_recording

    path = tmp_path_factory.mktemp("video") / "rec.mp4"
    make_recording(path, seed=3, seconds=2, fps=4, size=(640, 360), languages=("en", "ko"))
    return path


def _wait_for_run_folder(folder: Path, process: subprocess.Popen[bytes], seconds: float = 120) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        found = [p for p in folder.iterdir() if p.name.startswith(PREFIX)]
        if found and (found[0] / "textlayer.jsonl").exists():
            return found[0]
        time.sleep(0.05)
    raise AssertionError("the run never started writing")


@pytest.mark.slow
def test_kill_9_mid_run_is_cleaned_up_by_the_next_run(
    tmp_path: Path, veil_home: Path, short_video: Path, fast_policy: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    out = work / "rec_redacted.mp4"
    env = _env(veil_home)
    victim = subprocess.Popen(_redact_cmd(short_video, out, fast_policy), env=env, stderr=subprocess.DEVNULL)
    try:
        run_folder = _wait_for_run_folder(work, victim)
        time.sleep(1.0)  # some frames into the run
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert run_folder.exists() and not out.exists()  # what the killed run left
    cmd = _redact_cmd(short_video, out, fast_policy)
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    assert done.returncode in (0, 5), done.stderr.decode(errors="replace")[-400:]
    assert hidden(work) == []  # no run folder, spool, temporary or lock file left
    assert sorted(p.name for p in work.iterdir()) == [
        "rec_redacted.mp4",
        "rec_redacted.report.json",
        "rec_redacted.textlayer.jsonl",
    ]
    verify = subprocess.run(
        [sys.executable, "-m", "veil", "audit", "verify"], env=env, capture_output=True, check=False
    )
    assert verify.returncode == 0, verify.stdout


@pytest.mark.slow
def test_two_concurrent_runs_to_the_same_output(
    tmp_path: Path, veil_home: Path, short_video: Path, fast_policy: Path
) -> None:
    from veil.capture.open import open_source
    from veil.options import VideoOptions

    out = tmp_path / "same.mp4"
    env = _env(veil_home)
    cmd = _redact_cmd(short_video, out, fast_policy)
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [(r.wait(timeout=600), r.stderr.read().decode() if r.stderr else "") for r in runs]
    for r in runs:
        for stream in (r.stdout, r.stderr):
            if stream:
                stream.close()
    codes = sorted(code for code, _ in results)
    assert codes[0] in (0, 5) and codes[1] == 8, results
    loser = next(err for code, err in results if code == 8)
    assert "another veil run is writing this output" in " ".join(loser.split()) and "Traceback" not in loser
    frames = sum(1 for _ in open_source(out, VideoOptions()).frames())
    report = json.loads((tmp_path / "same.report.json").read_text(encoding="utf-8"))
    layer = (tmp_path / "same.textlayer.jsonl").read_text(encoding="utf-8").splitlines()
    assert frames == report["summary"]["frames"] == len(report["frames"]) == len(layer) == 8
    assert hidden(tmp_path) == []


# -- file names that hold personal values --------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "raw", "shown"),
    [
        ("김민수_010-1234-5678.png", ["김민수", "010-1234-5678", "1234"], "<person_name>_<phone>.png"),
        ("jane.smith@example.com.png", ["jane", "smith", "example.com"], "<email>"),
    ],
)
def test_personal_file_names_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, raw: list[str], shown: str
) -> None:
    src = text_image(tmp_path / name, "Quarterly report draft")
    assert main(["redact", str(src)]) == 0
    out = capsys.readouterr()
    stem = Path(name).stem
    report = (tmp_path / f"{stem}_redacted.report.json").read_text(encoding="utf-8")
    summary = json.loads(report)["summary"]
    assert summary["input"] == shown
    for text in (out.out, out.err, report):
        for value in raw:
            assert value not in text
    assert (tmp_path / f"{stem}_redacted.png").exists()  # the files keep their real names
    # Errors too: the same input, now empty.
    src.write_bytes(b"")
    assert main(["redact", str(src)]) == 3
    err = capsys.readouterr().err
    assert "empty" in err and all(value not in err for value in raw)


def test_korean_and_japanese_file_names_work_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "회의록"
    folder.mkdir()
    target = tmp_path / "会議メモ"
    target.mkdir()
    src = text_image(folder / "화면_기록.png", "Quarterly report draft")
    out = target / "結果_画面.png"
    assert main(["redact", str(src), "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["input"] == "화면_기록.png"  # nothing personal: shown as is
    assert summary["output"].endswith("会議メモ/結果_画面.png")
    assert out.exists()
    assert (target / "結果_画面.report.json").exists() and (target / "結果_画面.textlayer.jsonl").exists()
    assert hidden(folder) == [] and hidden(target) == []
