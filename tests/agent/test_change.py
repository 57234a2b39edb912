"""Which grabs the agent keeps: a change, not a caret's blink; a moving screen once it settles;
and the share of a CPU core it allows itself."""

from __future__ import annotations

import threading
import time

import numpy as np

from veil.agent.recorder import CpuBudget
from veil.agent.screen import ChangeTest
from veil.models import Pixels


def screen(text_width: int, caret: bool, scrolled: int = 0) -> Pixels:
    """A text field with `text_width` px of typed text and, when `caret`, its caret after it; below,
    a table of stripes scrolled by `scrolled` px."""
    pixels = np.full((240, 320, 3), 250, np.uint8)
    pixels[20:36, 16 : 16 + text_width] = 30  # the typed text
    if caret:
        pixels[18:38, 18 + text_width] = 0  # a 1-px caret
    rows = (np.arange(60, 240) + scrolled) // 12 % 2 == 0
    pixels[60:240][rows, 20:300] = 120
    return pixels


def test_a_blinking_caret_is_kept_once_not_twice_a_second() -> None:
    changes = ChangeTest(2.0)
    typed = [screen(40, True), screen(48, True)]
    for frame in typed:
        assert changes.wants(frame, 0.0)
        changes.keep(frame)
    off = screen(48, False)
    assert changes.wants(off, 0.5)  # the caret went out: kept once (it may stay out)
    changes.keep(off)
    for t in range(10):  # blinking on and off: both pictures are kept already
        assert not changes.wants(screen(48, t % 2 == 0), 1.0 + t / 2)
    assert changes.wants(screen(56, True), 6.0)  # a typed character is a change


def test_a_small_edit_that_is_no_blink_is_kept() -> None:
    changes = ChangeTest(2.0)
    for width in (40, 44, 48, 52):
        assert changes.wants(screen(width, False), 0.0)  # 4 px more text each time: small, but new
        changes.keep(screen(width, False))


def test_a_moving_screen_is_kept_once_settled_or_after_settle_seconds() -> None:
    changes = ChangeTest(2.0, settle_seconds=1.0)
    first = screen(40, False)
    assert changes.wants(first, 0.0)
    changes.keep(first)
    wanted = [changes.wants(screen(40, False, scrolled=s), s / 25) for s in range(5, 40, 5)]  # 5 grabs/s
    assert wanted == [False] * 5 + [True, True]  # moving: nothing until it has moved for 1 s
    changes.keep(screen(40, False, scrolled=35))
    assert not changes.wants(screen(40, False, scrolled=40), 1.6)  # moving again: wait ...
    assert changes.wants(screen(40, False, scrolled=40), 1.8)  # ... settled (same as the grab before)


def test_without_settling_every_change_is_kept() -> None:
    changes = ChangeTest(2.0, settle_seconds=0.0)
    changes.keep(screen(40, False))
    assert all(changes.wants(screen(40, False, scrolled=s), s / 50) for s in range(5, 40, 5))


def test_after_a_gap_the_next_grab_is_kept() -> None:
    changes = ChangeTest(2.0, settle_seconds=5.0)
    changes.keep(screen(40, False))
    changes.forget()
    assert changes.wants(screen(40, False), 0.0)


def burn(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_the_budget_rests_until_cpu_is_its_share_of_the_time() -> None:
    budget = CpuBudget(0.25, threading.Event())
    started = time.monotonic()
    burn(0.1)
    budget.rest()
    assert time.monotonic() - started >= 0.1 / 0.25 - 0.02  # 0.1 CPU-s at a quarter core: 0.4 s


def test_the_budget_no_longer_rests_once_capture_ended() -> None:
    ended = threading.Event()
    budget = CpuBudget(0.01, ended)
    ended.set()
    burn(0.05)
    started = time.monotonic()
    budget.rest()
    assert time.monotonic() - started < 1.0  # would be 5 s
