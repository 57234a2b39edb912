"""`veil serve --engine ray` (#17): the server's task-mining job derives events and segments them as
Ray tasks, with the same candidates as the server's local run on the same stored text layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.conftest import (
    csrf_of,
    gated_server,
    login,
    make_device,
    segment_zip,
    upload,
)
from veil.mining.synth_recording import generate_recording


def _mine_on_a_server(folder: Path, layers: list[bytes], engine: str) -> dict[str, Any]:
    with gated_server(folder, engine=engine, watch_alarms=False, retention_sweep_seconds=0) as (ctx, client):
        device = make_device(ctx)
        for n, layer in enumerate(layers):
            body = segment_zip(f"rec-{n}", text_layer=layer)
            assert upload(client, device, body, recording_id=f"rec-{n}").status_code == 201
        login(client, "ana.one")
        assert client.post("/mining/run", data={"csrf": csrf_of(client, "/mining")}).status_code == 303
        run: dict[str, Any] = client.get("/api/v1/mining").json()
        return run


def test_the_server_mines_on_ray_as_it_does_locally(ray: Any, tmp_path: Path) -> None:
    layers = []
    for n in range(3):
        path = tmp_path / f"rec{n}.textlayer.jsonl"
        generate_recording(path, repeats=4, seed=20 + n)
        layers.append(path.read_bytes())
    local = _mine_on_a_server(tmp_path / "local", layers, "local")
    remote = _mine_on_a_server(tmp_path / "ray", layers, "ray")
    assert local["status"] == remote["status"] == "done", (local, remote)
    assert remote["events"] == local["events"] > 0
    assert remote["candidates"] == local["candidates"] and local["candidates"]


def test_serve_refuses_an_unknown_engine() -> None:
    from typer.testing import CliRunner

    from veil.cli import app

    result = CliRunner().invoke(app, ["serve", "--engine", "spark", "--port", "1"])
    assert result.exit_code != 0
    assert "--engine must be 'local' or 'ray'" in (result.output + str(result.exception))
