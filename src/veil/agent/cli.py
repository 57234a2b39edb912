"""`veil record`: the capture agent, and the employee's switches.

veil record [--offline] [-o OUTBOX] [--duration S] [--window-sidecar FILE]   record until stopped
veil record init --server URL [--device ID]      make the device key, print its public key
veil record pause | resume | private             the employee's switch (a running agent obeys)
veil record status                               the outbox and the switch, as a table or JSON
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from veil.agent.control import Control, Mode, set_mode
from veil.cli_common import JsonOpt, PolicyOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import EXIT_OK, PolicyError
from veil.options import Policy, load_policy, policy_from_text

if TYPE_CHECKING:
    from veil.agent.client import ServerClient
    from veil.agent.recorder import Recorder, Status

app = typer.Typer(
    help="Record this screen: redact and verify here, upload verified segments only.",
    no_args_is_help=False,
    invoke_without_command=True,
)
log = logging.getLogger(__name__)
stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)
FolderOpt = Annotated[
    Path | None, typer.Option("--agent-dir", help="The agent's folder (default: $VEIL_HOME/agent).")
]
STYLES = {"RECORDING": "bold white on red", "PAUSED": "bold black on yellow", "PRIVATE": "bold white on blue"}


def agent_folder(folder: Path | None) -> Path:
    from veil.store.home import veil_home

    path = folder or veil_home() / "agent"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _status_text(status: Status) -> Text:
    text = Text(f" {status.state} ", style=STYLES.get(status.state, "bold"))
    text.append("  " + status.line().split("  ", 1)[1])
    if status.state != "RECORDING" and status.reason:
        text.append(f"  {status.reason}", style="italic")
    return text


def _keys(folder: Path, stop: threading.Event) -> None:
    """p pause, r resume, s private, q stop: the switches from the agent's own terminal."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.3)
            if not ready:
                continue
            key = os.read(fd, 1).decode(errors="ignore").lower()
            if key == "q":
                os.kill(os.getpid(), signal.SIGINT)
            mode = {"p": Mode.PAUSED, "r": Mode.RECORDING, "s": Mode.PRIVATE}.get(key)
            if mode is not None:
                set_mode(folder, mode)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@app.callback()
def record(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Outbox folder (default: <agent-dir>/outbox).")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="No server: segments stay in the outbox (one machine).")
    ] = False,
    duration: Annotated[
        float | None, typer.Option("--duration", min=1, help="Stop after so many seconds.")
    ] = None,
    window_sidecar: Annotated[
        Path | None,
        typer.Option("--window-sidecar", help="JSON file naming the window in front (non-X11 systems)."),
    ] = None,
    folder: FolderOpt = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Record this screen until stopped (Ctrl-C, q): nothing leaves unless verified."""
    if ctx.invoked_subcommand is not None:
        return
    setup_logging(verbose, quiet)
    status = _run(output, offline, duration, window_sidecar, agent_folder(folder), policy, quiet)
    summary = {
        "recording_id": status.recording_id,
        "frames": status.frames,
        "segments": status.segments,
        "waiting_to_upload": status.pending,
        "skipped": dict(status.counts),
        "pipeline": status.pipeline,
        "startup_cpu_seconds": status.startup_cpu_seconds,
    }
    if as_json:
        stdout.print_json(json.dumps(summary))
    elif not quiet:
        stdout.print(f"recorded {status.frames} frames in {status.segments} segments; "
                     f"{status.pending} waiting to upload")  # fmt: skip
    raise typer.Exit(EXIT_OK)


def _run(
    output: Path | None,
    offline: bool,
    duration: float | None,
    sidecar: Path | None,
    folder: Path,
    policy_path: Path | None,
    quiet: bool,
) -> Status:
    from veil.agent.recorder import Recorder, RecordOptions, Status
    from veil.agent.screen import MssScreen
    from veil.agent.window import SidecarWindows, WindowReader, WindowUnknown, X11Windows

    loaded = load_policy(policy_path)
    client = None if offline else _client(folder, loaded.agent.server_timeout_seconds)
    try:
        windows: WindowReader = SidecarWindows(sidecar) if sidecar else X11Windows()
        screen = MssScreen()
    except (WindowUnknown, OSError) as exc:
        raise PolicyError(f"cannot watch this screen: {exc}") from exc
    except Exception as exc:
        raise PolicyError(f"cannot capture this screen ({type(exc).__name__})") from exc
    live = Live(Text("STARTING"), console=stderr, refresh_per_second=4, transient=False)
    shown = not quiet and stderr.is_terminal
    last: list[str] = []

    def show(status: Status) -> None:
        if shown:
            live.update(_status_text(status))
        elif not quiet and [status.state, status.reason] != last:
            last[:] = [status.state, status.reason]
            stderr.print(_status_text(status))

    owner = client.device if client is not None else "local"
    follow = client is not None and policy_path is None
    stop = threading.Event()
    current: list[Recorder] = []

    def on_term(*_: object) -> None:
        stop.set()
        for recorder in current:
            recorder.stop()

    signal.signal(signal.SIGTERM, on_term)
    keys = None
    if shown and sys.stdin.isatty():
        keys = threading.Thread(target=_keys, args=(folder, stop), daemon=True)
        keys.start()

    def new_recorder(policy: Policy, left: float | None) -> Recorder:
        options = RecordOptions(folder, policy, output, offline, left, owner, follow)
        return Recorder(options, screen, windows, client=client, on_status=show)

    try:
        if shown:
            live.start()
        try:
            return record_on(new_recorder, loaded, client if follow else None, duration, stop, current)
        except KeyboardInterrupt:
            for recorder in current:
                recorder.stop()
            return current[-1].status if current else Status()
    finally:
        stop.set()
        if shown:
            live.stop()
        screen.close()
        if client is not None:
            client.close()


def record_on(
    new_recorder: Callable[[Policy, float | None], Recorder],
    policy: Policy,
    follow: ServerClient | None,
    duration: float | None,
    stop: threading.Event,
    current: list[Recorder],
) -> Status:
    """Record under `policy`, or, given the server to `follow`, under the server's policy in
    force: when the server puts another in force the recorder stops capturing at once, and the
    recording goes on under the new one (`current` holds the recorder running)."""
    started = time.monotonic()
    announced: str | None = None  # the version the server's state named when a recorder stopped
    status: Status | None = None
    while True:
        if follow is not None:
            policy = server_policy(follow, policy.agent.server_timeout_seconds, announced)
        left = None if duration is None else duration - (time.monotonic() - started)
        if status is not None and (stop.is_set() or (left is not None and left <= 0)):
            return status  # stopped, or out of time, while the new policy was fetched
        recorder = new_recorder(policy, left)
        current[:] = [recorder]
        status = recorder.run()
        if follow is None or recorder.server_policy is None or stop.is_set():
            return status
        announced = recorder.server_policy
        log.info("the server put another policy in force; recording on under it")


def server_policy(
    client: ServerClient, timeout: float, announced: str | None = None, tries: int = 3
) -> Policy:
    """The server's policy in force, validated; PolicyError when it cannot be had (nothing is
    recorded under a policy the server did not send). `announced`: the version the server's state
    named; a policy of another version is asked for again (the two answers may straddle a change),
    and if it stays another, the server contradicts itself: PolicyError, not a loop of recordings
    that each stop at once."""
    got = None
    for attempt in range(tries):
        got = client.policy()
        if got is not None and (announced is None or got.version == announced):
            policy = policy_from_text(got.text)
            if policy.version != got.version:
                raise PolicyError("the server's policy names another version than the server does")
            return policy
        if attempt + 1 < tries:
            time.sleep(min(timeout, 5.0))
    if got is not None:
        raise PolicyError("the server's state names one policy version and it sends another: retry later")
    raise PolicyError("could not fetch the server's policy: check the server, retry, or give --policy")


def _client(folder: Path, timeout: float) -> ServerClient:
    from veil.agent.client import ServerClient, load_config, load_key

    config = load_config(folder)
    if not config.get("server") or not config.get("device"):
        raise PolicyError(
            "this agent has no server or device id yet: `veil record init --server URL --device ID` "
            "(or --offline)"
        )
    return ServerClient(config["server"], config["device"], load_key(folder), timeout)


@app.command("init")
def init(
    server: Annotated[str, typer.Option("--server", help="The Veil server's URL.")],
    device: Annotated[
        str | None, typer.Option("--device", help="The device id the administrator registered.")
    ] = None,
    folder: FolderOpt = None,
) -> int:
    """Make this device's key (kept if it exists) and print its public key for the administrator."""
    from veil.agent.client import make_key, save_config

    if not server.startswith(("https://", "http://")):
        raise PolicyError(f"--server must be an http(s) URL, got {server!r}")
    where = agent_folder(folder)
    public = make_key(where)
    save_config(where, server=server, **({"device": device} if device else {}))
    stdout.print(public.rstrip(), markup=False)
    if device is None:
        stderr.print("give this public key to the administrator (`veil serve device-add`), then run "
                     "`veil record init --server URL --device ID` with the id it prints")  # fmt: skip
    return EXIT_OK


def _switch(mode: Mode, folder: Path | None) -> int:
    set_mode(agent_folder(folder), mode)
    stdout.print(f"veil record: {mode}")
    return EXIT_OK


@app.command("pause")
def pause(folder: FolderOpt = None) -> int:
    """Pause recording until `veil record resume`."""
    return _switch(Mode.PAUSED, folder)


@app.command("resume")
def resume(folder: FolderOpt = None) -> int:
    """Resume recording."""
    return _switch(Mode.RECORDING, folder)


@app.command("private")
def private(folder: FolderOpt = None) -> int:
    """Private time: nothing is recorded until `veil record resume`."""
    return _switch(Mode.PRIVATE, folder)


@app.command("status")
def status(folder: FolderOpt = None, output: Path | None = None, as_json: JsonOpt = False) -> int:
    """The switch and the segments waiting in the outbox."""
    from veil.agent.outbox import Outbox

    where = agent_folder(folder)
    outbox = Outbox(output or where / "outbox")
    info = {
        "mode": str(Control(where).mode()),
        "waiting_to_upload": len(outbox.pending()),
        "recorded_today_minutes": round(outbox.recorded_today() / 60, 1),
    }
    if as_json:
        stdout.print_json(json.dumps(info))
    else:
        stdout.print("\n".join(f"{k}: {v}" for k, v in info.items()), markup=False)
    return EXIT_OK
