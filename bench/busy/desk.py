"""The idle desk beside the busy recordings: `veil.synth.office`'s generated back-office desk (a
form typed into, a long table scrolled a few rows at a time, a chat, window switches, pauses), as
`bench.speed` records it, here in memory as `Shot`s the busy benchmark scores like its own."""

from __future__ import annotations

from bench.browser.render import FrameSpec, Mark, Shot
from veil.synth.office import office_screens, office_spec

SIZE = (1920, 1080)
FPS = 5
SEED = 3  # the English desk of bench.speed's seeds 1..4


def desk_shots(seconds: float, seed: int = SEED) -> list[Shot]:
    """`seconds` of the desk at `FPS`; a frame repeating an earlier screen shares its pixels."""
    look = office_spec(seed, SIZE)
    spec = FrameSpec("office_desk", look.language, dark=look.theme == "dark", font=0,
                     font_px=look.font_px, zoom=1.0, size=SIZE, seed=seed, motion="desk")  # fmt: skip
    shots = []
    for k, (screen, _scene) in enumerate(office_screens(seed, seconds, FPS, SIZE)):
        marks = tuple(
            Mark(item.type, item.decoy, "", item.parts or (item.box,), shown=True) for item in screen.items
        )
        shots.append(Shot(spec, k, screen.pixels, marks, ()))
    return shots
