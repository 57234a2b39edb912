"""A scripted desktop for the agent tests: Xvfb on a free display, Debian's chromium showing a
small synthetic CRM page (fake people), and a plain X window standing in for a confidential app."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SIZE = (1280, 720)
# Fake people of the page (invented for this test; checked absent from every output).
SHOWN = {"name": "Jonathan Whitfield", "email": "jonathan.whitfield@example.com", "phone": "+1 415 555 0137"}
TYPED = {"email": "margot.delacroix@example.org"}
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>Acme CRM - Customer card</title>
<style>body{{font-family:sans-serif;font-size:22px;margin:30px;background:#fff}}
td{{padding:6px 14px}} input{{font-size:22px;width:520px}}</style></head>
<body><h2>Customer card</h2><table>
<tr><td>Name</td><td>{SHOWN["name"]}</td></tr>
<tr><td>Email</td><td>{SHOWN["email"]}</td></tr>
<tr><td>Phone</td><td>{SHOWN["phone"]}</td></tr>
<tr><td>Order</td><td>SKU-44821</td></tr>
</table><p>Contact email: <input id="contact" autofocus></p></body></html>
"""


def _need(*paths: str) -> None:
    for path in paths:
        if not (shutil.which(path) or Path(path).exists()):
            pytest.fail(f"{path} is needed for the agent tests (Xvfb, xdotool, chromium)")


def _taken(number: int) -> bool:
    """Whether an X server answers on :number (possibly in another helper's namespace: the abstract
    socket is shared, so a lock file alone does not tell)."""
    from Xlib import display
    from Xlib.error import DisplayError

    if Path(f"/tmp/.X{number}-lock").exists():
        return True
    try:
        display.Display(f":{number}").close()
    except (DisplayError, OSError):
        return False
    return True


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    _need("Xvfb", "xdotool")
    rng = random.Random()
    for _ in range(50):
        number = rng.randrange(200, 900)
        if _taken(number):
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(50):
            if proc.poll() is not None or Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.1)
        if proc.poll() is None:
            break
    else:
        pytest.fail("no free X display for Xvfb")
    name = f":{number}"
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    try:
        yield name
    finally:
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
        proc.terminate()
        proc.wait(10)


def xdotool(*args: str) -> str:
    done = subprocess.run(["xdotool", *args], check=False, capture_output=True, text=True, timeout=10)
    return done.stdout.strip()


@dataclass
class Browser:
    window: str

    def focus(self) -> None:
        xdotool("windowfocus", "--sync", self.window)

    def type(self, text: str) -> None:
        # Typed at once: a value caught half-typed ("jane.doe@exampl") is not detected by the
        # detectors today and would stay readable (reported; a detector matter, not the agent's).
        self.focus()
        xdotool("type", "--delay", "1", text)


@pytest.fixture(scope="session")
def crm(display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    _need(CHROMIUM)
    folder = tmp_path_factory.mktemp("crm")
    (folder / "crm.html").write_text(PAGE, encoding="utf-8")
    flags = [
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-features=Translate", "--window-position=0,0",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [CHROMIUM, *flags, f"--user-data-dir={folder / 'profile'}", f"--window-size={SIZE[0]},{SIZE[1]}",
         f"--app=file://{folder / 'crm.html'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "DISPLAY": display},
    )  # fmt: skip
    try:
        window = ""
        for _ in range(100):
            window = xdotool("search", "--name", "Acme CRM").split("\n")[-1]
            if window:
                break
            time.sleep(0.2)
        assert window, "chromium did not show the CRM page"
        browser = Browser(window)
        browser.focus()
        time.sleep(1.5)  # first paint
        yield browser
    finally:
        proc.terminate()
        proc.wait(10)


class Vault:
    """A plain X window standing in for a confidential app (WM_CLASS KeePassXC), solid magenta, over
    the whole screen: if any pixel of it were captured, a frame would show it."""

    COLOR = (255, 0, 255)

    def __init__(self) -> None:
        from Xlib import X, display

        self.d = display.Display()
        screen = self.d.screen()
        pixel = (self.COLOR[0] << 16) | (self.COLOR[1] << 8) | self.COLOR[2]
        self.w = screen.root.create_window(0, 0, SIZE[0], SIZE[1], 0, screen.root_depth, X.InputOutput,
                                           X.CopyFromParent, background_pixel=pixel,
                                           override_redirect=True)  # fmt: skip
        self.w.set_wm_class("keepassxc", "KeePassXC")
        self.w.set_wm_name("Vault - payroll of Margaret Quinlan")
        self.d.sync()

    def show(self) -> None:
        from Xlib import X

        self.w.map()
        self.d.sync()
        self.w.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.d.sync()

    def hide(self) -> None:
        self.w.unmap()
        self.d.sync()

    def close(self) -> None:
        self.w.destroy()
        self.d.close()


@pytest.fixture
def vault(display: str) -> Iterator[Vault]:
    window = Vault()
    try:
        yield window
    finally:
        window.close()
