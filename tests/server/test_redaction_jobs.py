"""Batch redaction jobs, the parts that need no redaction run: who may hand in a recording, the
CSRF token, the size cap, the deployment gate, a refused form leaving nothing on disk, a server
restarted mid-job (nothing kept, the job failed, a retry accepted), and the upload's name and
bytes never stored, logged or served. The redaction itself: test_redaction_jobs_e2e.py."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.server.conftest import complete_gate, csrf_of, login, settings_for
from veil.server import redaction_jobs, redaction_run
from veil.server.app import create_app
from veil.server.context import Context
from veil.server.db import RedactionJobRow
from veil.server.upload import object_id as upload_object_id
from veil.server.upload import sealed_input

API = "/api/v1/redaction-jobs"
PERSONAL_NAME = "Interview Jeanne Martin.mp4"  # a file name that names a person
BODY = b"\x00\x00\x00\x18ftypmp42" + b"not really a video " * 64


def submit(
    client: TestClient,
    body: bytes = BODY,
    *,
    csrf: str | None = "page",
    owner: str = "emp.one",
    name: str = PERSONAL_NAME,
    path: str = API,
    reason: str = "legacy meeting recordings, ticket 42",
) -> Any:
    """POST the form as the page does: csrf first, then the fields, then the file."""
    data = {"owner": owner, "reason": reason}
    if csrf == "page":
        csrf = csrf_of(client, "/policy")
    if csrf is not None:
        data = {"csrf": csrf, **data}
    return client.post(path, data=data, files={"recording": (name, body, "video/mp4")})


def job_folders(ctx: Context) -> list[Path]:
    root = redaction_jobs.jobs_root(ctx)
    return list(root.iterdir()) if root.exists() else []


@pytest.fixture
def queued_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs stay queued: the background drain is a no-op (the tests here never redact)."""
    monkeypatch.setattr(redaction_jobs, "run_queued", lambda ctx: None)


@pytest.mark.parametrize("user", ["emp.one", "ana.one", "adm.one"])
def test_only_the_privacy_officer_may_hand_in_a_recording(
    client: TestClient, ctx: Context, user: str, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, user)
    token = csrf_of(client, "/me")
    assert submit(client, csrf=token).status_code == 403
    assert client.get(API).status_code == 403
    assert "redaction-form" not in client.get("/me").text
    assert job_folders(ctx) == [] and list(ctx.ledger.entries(["raw-upload"])) == []


def test_the_officer_queues_a_job_logged_as_raw_access_file_name_never_kept(
    client: TestClient, ctx: Context, settings: Any, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    page = client.get("/policy").text
    assert 'id="redaction-form"' in page and 'enctype="multipart/form-data"' in page
    answer = submit(client)
    assert answer.status_code == 202, answer.text
    job = answer.json()["job"]
    assert job["status"] == "queued" and job["owner"] == "emp.one" and job["input_bytes"] == len(BODY)
    assert answer.headers["location"] == f"{API}/{job['id']}"
    # The upload: one private file in a private folder of the data folder, under no given name,
    # sealed: not one 16-byte run of the recording is on disk; its key, wrapped, only in the row.
    (folder,) = job_folders(ctx)
    (upload,) = list(folder.iterdir())
    sealed = upload.read_bytes()
    assert upload.name == "upload.sealed" and len(sealed) > len(BODY)
    assert not any(BODY[i : i + 16] in sealed for i in range(len(BODY) - 15))
    with ctx.session() as s:
        row = s.get(RedactionJobRow, job["id"])
        assert row is not None and row.wrapped_key and row.kek_id == ctx.kek.key_id
        key = ctx.kek.unwrap(row.wrapped_key, upload_object_id(folder).encode())
        digest = row.input_sha256
    with sealed_input(upload, key, folder, ".mp4", digest) as clear:
        assert clear.name == "input.mp4" and clear.read_bytes() == BODY
    assert list(folder.iterdir()) == [upload]  # the clear view is gone with the block
    assert stat.S_IMODE(upload.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    # Raw access in the ledger: who, why, whose, the hash; the alarms count it as a read.
    (entry,) = [e.event for e in ctx.ledger.entries(["raw-upload"])]
    assert entry["who"] == "dpo.one" and entry["owner"] == "emp.one" and entry["job_id"] == job["id"]
    assert entry["why"] == "legacy meeting recordings, ticket 42" and entry["size"] == len(BODY)
    from veil.access.alarms import READ_KINDS

    assert "raw-upload" in READ_KINDS
    # Status in the JSON API and on the page.
    assert client.get(f"{API}/{job['id']}").json()["job"]["status"] == "queued"
    assert client.get(API).json()["jobs"][0]["id"] == job["id"]
    assert f'id="job-{job["id"]}"' in client.get("/policy").text
    # The person's name in the file name is nowhere: not in answers, the catalog, the ledger.
    assert "Jeanne" not in answer.text + client.get(API).text + client.get("/policy").text
    for db in (settings.catalog_url, settings.ledger_url):
        assert b"Jeanne" not in Path(db.removeprefix("sqlite:///")).read_bytes()
    # The raw upload is served by no endpoint: the member route knows redacted members only.
    rid = job["recording_id"]
    for member in ("upload.mp4", "../upload.mp4", "report.json"):
        assert client.get(f"/recordings/{rid}/0/{member}").status_code in (303, 400, 403, 404)


def test_a_form_without_the_csrf_token_is_refused_before_any_byte_is_kept(
    client: TestClient, ctx: Context, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    for path in (API, "/redaction-jobs"):
        assert submit(client, csrf=None, path=path).status_code == 403
        assert submit(client, csrf="0" * 64, path=path).status_code == 403
    assert job_folders(ctx) == [] and list(ctx.ledger.entries(["raw-upload"])) == []


def test_the_page_form_redirects_to_the_job_list(client: TestClient, ctx: Context, queued_only: None) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    answer = submit(client, path="/redaction-jobs")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/policy?job=")


def test_an_oversize_upload_is_refused_with_a_clear_error_and_leaves_no_file(
    tmp_path: Path, queued_only: None
) -> None:
    app = create_app(settings_for(tmp_path, max_upload_bytes=1000, watch_alarms=False))
    ctx: Context = app.state.ctx
    try:
        ctx.directory.add_user("dpo.one", "privacy_officer", password="a long test password 1", by="t")
        ctx.directory.add_user("emp.one", "employee", password="a long test password 1", by="t")
        complete_gate(ctx)
        client = TestClient(app, follow_redirects=False)
        login(client, "dpo.one")
        answer = submit(client, b"x" * 5000)  # refused by its Content-Length, before reading
        assert answer.status_code == 413 and "larger than this server accepts" in answer.json()["error"]
        # A body without Content-Length is counted as it comes: cut off past the limit.
        token = csrf_of(client, "/policy")
        stream = _chunked_form(token, b"x" * 3000)
        kind = {"content-type": f"multipart/form-data; boundary={B}"}
        answer = client.post(API, content=stream, headers=kind)
        assert answer.status_code == 413, answer.text
        # Without the token the file is refused at its first byte: 403, not "too large" at the end.
        answer = client.post(API, content=_chunked_form("0" * 64, b"x" * 3000), headers=kind)
        assert answer.status_code == 403, answer.text
        assert job_folders(ctx) == [] and list(ctx.ledger.entries(["raw-upload"])) == []
    finally:
        ctx.close()


B = "veilboundary"


def _chunked_form(token: str, body: bytes) -> Any:
    head = (
        f'--{B}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{B}\r\nContent-Disposition: form-data; name="owner"\r\n\r\nemp.one\r\n'
        f'--{B}\r\nContent-Disposition: form-data; name="reason"\r\n\r\nlegacy\r\n'
        f'--{B}\r\nContent-Disposition: form-data; name="recording"; filename="a.mp4"\r\n\r\n'
    ).encode()

    def chunks() -> Any:
        yield head
        for start in range(0, len(body), 500):
            yield body[start : start + 500]
        yield f"\r\n--{B}--\r\n".encode()

    return chunks()


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"owner": "nobody.here"}, 400, "owner must be an active user"),
        ({"name": "notes.txt"}, 400, "must be a video file"),
        ({"body": b""}, 400, "empty"),
        ({"reason": "asked by jeanne.martin@example.com"}, 400, "looks like it holds personal data"),
    ],
)
def test_a_refused_form_leaves_nothing(
    client: TestClient, ctx: Context, change: dict[str, Any], status: int, words: str, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    answer = submit(client, change.pop("body", BODY), **change)
    assert answer.status_code == status and words in answer.json()["error"], answer.text
    assert "notes" not in answer.text and "jeanne" not in answer.text
    assert job_folders(ctx) == [] and list(ctx.ledger.entries(["raw-upload"])) == []


def test_no_recording_is_accepted_before_the_deployment_gate(
    client: TestClient, ctx: Context, queued_only: None
) -> None:
    login(client, "dpo.one")
    answer = submit(client)
    assert answer.status_code == 403 and "deployment gate" in answer.json()["error"]
    assert job_folders(ctx) == []


def test_the_same_recording_twice_is_refused_while_queued(
    client: TestClient, ctx: Context, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    assert submit(client).status_code == 202
    answer = submit(client)
    assert answer.status_code == 409 and "already stored or queued" in answer.json()["error"]
    assert len(job_folders(ctx)) == 1


def test_a_server_restarted_mid_job_keeps_nothing_and_the_job_can_be_submitted_again(
    client: TestClient, ctx: Context, settings: Any, queued_only: None
) -> None:
    complete_gate(ctx)
    login(client, "dpo.one")
    job = submit(client).json()["job"]
    spec = redaction_jobs.claim_next(ctx)  # the job starts ...
    assert spec is not None and spec.id == job["id"]
    (spec.folder / "out").mkdir()
    (spec.folder / "out" / "redacted.mp4.partial").write_bytes(b"half a video")  # ... writes a part ...
    with ctx.session() as s:  # ... and its server dies: the heartbeat stops
        old = datetime.now(UTC) - timedelta(hours=1)
        s.execute(update(RedactionJobRow).where(RedactionJobRow.id == job["id"]).values(heartbeat_at=old))
    # A new server process on the same catalog, ledger and data folder: its start recovers.
    app2 = create_app(settings)
    ctx2: Context = app2.state.ctx
    try:
        assert redaction_jobs.recover(ctx2) == 1
        assert not spec.folder.exists() and job_folders(ctx2) == []
        failed = redaction_jobs.job(ctx2, job["id"])
        assert failed["status"] == "failed" and "interrupted" in failed["error"]
        ends = [e.event for e in ctx2.ledger.entries(["redaction-job"])]
        assert [(e["job_id"], e["outcome"]) for e in ends] == [(job["id"], "interrupted")]
        deletions = [e.event for e in ctx2.ledger.entries(["deletion"])]
        assert [(d["recording_id"], d["what"]) for d in deletions] == [(job["recording_id"], "raw-upload")]
        assert deletions[0]["method"] == "crypto-shred"
        with ctx2.session() as s:
            row = s.get(RedactionJobRow, job["id"])
            assert row is not None and row.wrapped_key is None  # the upload's key is destroyed
        assert ctx2.ledger.verify().ok
        assert redaction_jobs.recover(ctx2) == 0  # once
    finally:
        ctx2.close()
    retry = submit(client)  # nothing of the failed attempt stands in the way
    assert retry.status_code == 202 and retry.json()["job"]["recording_id"] == job["recording_id"]


def test_a_sealed_upload_swapped_or_changed_on_disk_fails_its_job_and_nothing_is_decoded(
    client: TestClient, ctx: Context, queued_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker with write access to the data folder swaps two queued uploads (each sealed
    under its own key, bound to its folder) and flips one byte of a third: no job decodes a
    byte, each fails with the integrity error, and each key and folder is destroyed."""
    complete_gate(ctx)
    login(client, "dpo.one")
    jobs = [submit(client, BODY + bytes([n])).json()["job"] for n in range(3)]
    folders = {f.name: f for f in job_folders(ctx)}
    with ctx.session() as s:
        names = [s.get(RedactionJobRow, j["id"]).folder for j in jobs]  # type: ignore[union-attr]
    first, second, third = (folders[n] / "upload.sealed" for n in names)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    flipped = bytearray(third.read_bytes())
    flipped[40] ^= 1
    third.write_bytes(bytes(flipped))
    decoded: list[Path] = []
    monkeypatch.setattr(redaction_run, "redact_file", lambda path, options: decoded.append(path))
    for _ in jobs:
        spec = redaction_jobs.claim_next(ctx)
        assert spec is not None
        redaction_jobs.run_job(ctx, spec)
    assert decoded == []
    for j in jobs:
        done = redaction_jobs.job(ctx, j["id"])
        assert done["status"] == "failed" and "authentication" in done["error"], done
    ends = [e.event["error"] for e in ctx.ledger.entries(["redaction-job"])]
    assert ends == ["StoreIntegrityError"] * 3
    with ctx.session() as s:
        assert all(s.get(RedactionJobRow, j["id"]).wrapped_key is None for j in jobs)  # type: ignore[union-attr]
    assert job_folders(ctx) == []


def test_a_folder_no_job_owns_is_removed_once_stale(ctx: Context) -> None:
    root = redaction_jobs.jobs_root(ctx)
    root.mkdir(parents=True)
    cut_off = root / "abandoned"
    cut_off.mkdir()
    (cut_off / "upload.mp4").write_bytes(b"the first half of an upload")
    redaction_jobs.recover(ctx)
    assert cut_off.exists()  # may still be arriving
    old = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    for path in (cut_off / "upload.mp4", cut_off):
        os.utime(path, (old, old))
    redaction_jobs.recover(ctx)
    assert not cut_off.exists()
