"""Task mining from the page: a background run over the stored text layers, figures per task only."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import Device, complete_gate, csrf_of, login, segment_zip, upload
from veil.mining.synth_recording import generate_recording
from veil.server.context import Context


def test_mining_runs_in_the_background_on_stored_text_layers(
    tmp_path: Path, client: TestClient, ctx: Context, device: Device
) -> None:
    complete_gate(ctx)
    layer = tmp_path / "rec.textlayer.jsonl"
    generate_recording(layer, repeats=5, seed=11)
    assert upload(client, device, segment_zip(text_layer=layer.read_bytes())).status_code == 201
    login(client, "ana.one")
    assert "has not run yet" in client.get("/mining").text
    answer = client.post("/mining/run", data={"csrf": csrf_of(client, "/mining")})
    assert answer.status_code == 303  # TestClient runs the background task before returning
    run = client.get("/api/v1/mining").json()
    assert run["status"] == "done", run
    top = run["candidates"][0]
    assert top["instances"] == 5 and top["people"] == "fewer than 5"
    page = client.get("/mining").text
    assert top["name"] in page and 'id="candidates"' in page


def test_mining_without_recordings_says_so(client: TestClient, ctx: Context) -> None:
    login(client, "ana.one")
    client.post("/mining/run", data={"csrf": csrf_of(client, "/mining")})
    run = client.get("/api/v1/mining").json()
    assert run["status"] == "failed" and "nothing to mine" in run["error"]


def test_employee_cannot_run_mining(client: TestClient) -> None:
    login(client, "emp.one")
    assert client.post("/mining/run", data={"csrf": csrf_of(client, "/me")}).status_code == 403
