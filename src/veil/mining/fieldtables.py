"""Per field combination (see `eventstore.Vocabulary`), what the bounded miner reads of an event,
as arrays indexed by the combination's id: its screen rule, step, linking keys and exported
cells. Built once from the vocabulary; every event then costs an array lookup."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veil.mining.base import STEP_ACTION, Action
from veil.mining.cycles import Sig
from veil.mining.eventstore import Interned, Vocabulary
from veil.mining.groups import ALL, GROUP_COLUMNS

Cells = tuple[
    str, str, str, str, str, str, str, str
]  # app, window, screen, action, target, value, url, activity
OWN, STEP, CURRENT = 0, 1, 2  # an event's screen: its own, its step's name, its app's current one


@dataclass
class FieldTables:
    screens: Interned[str]  # screen names (an event's own, or a step's "app: action target")
    mode: list[int]  # OWN, STEP or CURRENT (as `threads.event_screens` decides)
    app: list[str]
    screen: list[int]  # the combination's own screen
    step_screen: list[int]  # its step's name as a screen, or -1
    step: np.ndarray  # step number (`cycles.Log` numbering)
    steps: list[Sig]
    number: dict[Sig, int]
    keys: list[tuple[int, ...]]  # value pseudonyms as 2 * token id, its record as 2 * record id + 1
    tokens: int  # how many distinct value pseudonyms (kept in memory only)
    cells: list[Cells]
    tally: list[tuple[str, Action, str, str]]  # app, action, target, value
    group_of_extra: list[int]  # per extra id, its user group name's id in `group_names`
    group_names: Interned[str]

    @classmethod
    def of(cls, vocab: Vocabulary) -> FieldTables:
        screens: Interned[str] = Interned()
        tokens: Interned[str] = Interned()
        records: Interned[str] = Interned()
        number: dict[Sig, int] = {}
        mode, app, screen, step_screen, step, keys, tally = [], [], [], [], [], [], []
        cells: list[Cells] = []
        for fields in vocab.fields.items:
            a, window, scr, action, target, value, url, record, links = fields
            if url or (window and window != a):
                mode.append(OWN)
            else:
                mode.append(STEP if target else CURRENT)
            app.append(a)
            screen.append(screens.id(scr))
            step_screen.append(screens.id(f"{a}: {action.value} {target}") if target else -1)
            step.append(number.setdefault((a, STEP_ACTION[action], target), len(number)))
            own = [2 * tokens.id(t) for t in links]
            if record:
                own.append(2 * records.id(record) + 1)
            keys.append(tuple(own))
            e_activity = activity_of(a, action, target)
            cells.append((a, window, scr, action.value, target, value, url, e_activity))
            tally.append((a, action, target, value))
        names: Interned[str] = Interned()
        group_of_extra = [names.id(_group_name(extra) or ALL) for extra in vocab.extras.items]
        return cls(
            screens,
            mode,
            app,
            screen,
            step_screen,
            np.array(step, dtype=np.int64),
            list(number),
            number,
            keys,
            len(tokens),
            cells,
            tally,
            group_of_extra,
            names,
        )


def activity_of(app: str, action: Action, target: str) -> str:
    """`export.activity` of an event with these fields (tests hold the two to the same text)."""
    return f"{app}: {action.value} {target}".strip()


def _group_name(extra: tuple[tuple[str, str], ...]) -> str:
    """The user group an event names (as `groups._raw_groups` reads it), or ""."""

    def value(key: str) -> str | None:
        for k, v in extra:
            if k == key:
                return v
        return None

    return next((v for k in GROUP_COLUMNS if (v := value(k) or value(f"extra.{k}"))), "")
