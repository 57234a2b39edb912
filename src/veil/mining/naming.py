"""Names for task types that a person can read: where the work happens and what makes it this
task and not another.

A name lists the applications in the order the task visits them, each with its document or page
(workbook, host and page), then the targets that are most distinctive of the type: frequent in
it, rare in the other types (a "paste" or a "Submit" every task has says nothing). Example:
"Excel reimbursement.xlsx → Chrome form.jotform.com: q3_name[first], q6_studentId, q4_email, …".
Names are never empty and never repeat: a clash takes more targets, then a number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from veil.mining.base import Action, UIEvent
from veil.mining.scrub import PLACEHOLDER

SHOWN_TARGETS = 3
_MAX_PLACE = 40
_GOING = frozenset({Action.SWITCH, Action.NAVIGATE})


def _place(url: str, window: str, app: str) -> str:
    """The document or page an event is on, as short as it stays telling."""
    if url:
        rest = url.split("://", 1)[-1]
        parts = [p for p in rest.split("/") if p and not PLACEHOLDER.match(p)]
        host = parts[0] if parts else ""
        page = parts[-1] if len(parts) > 1 else ""
        text = f"{host}/{page}" if page and len(host) + len(page) < _MAX_PLACE else host
        return text
    return window if window and window != app else ""


def _route(seen: Counter[tuple[str, str, str]]) -> list[str]:
    """Applications (with their main place) in the order the task first visits them, from each
    distinct (app, url, window) in the order first seen, which is also the order in which each
    app and each of its places is first seen."""
    places: dict[str, Counter[str]] = {}
    for (app, url, window), n in seen.items():
        places.setdefault(app, Counter())[_place(url, window, app)] += n
    out = []
    for app, counts in places.items():
        place = next((p for p, _n in counts.most_common() if p), "")
        out.append(f"{app} {place}".strip())
    return out


def _distinctive(type_id: int, counts: Mapping[int, Counter[str]], order: Sequence[str]) -> list[str]:
    mine = counts[type_id]
    elsewhere: Counter[str] = Counter()
    for other, c in counts.items():
        if other != type_id:
            elsewhere.update(c)
    total = max(sum(mine.values()), 1)

    def score(t: str) -> float:
        return mine[t] / total / (1 + elsewhere[t])

    ranked = sorted(mine, key=lambda t: (-score(t), order.index(t) if t in order else len(order), t))
    return ranked


class TypeWords:
    """What names a task type, gathered event by event in the order of its instances: the
    targets worth naming it by (counted, in the order first seen) and its route's places."""

    def __init__(self) -> None:
        self.targets: Counter[str] = Counter()
        self.route: Counter[tuple[str, str, str]] = Counter()

    def add(self, events: Iterable[tuple[str, Action, str, str, str]]) -> None:
        """Events' (target, action, app, url, window), in order."""
        held = list(events)
        # What was done on the screens, not which window was brought to the front (the route
        # names those); a target without two letters is an OCR fragment.
        self.targets.update([t for t, action, *_rest in held if action not in _GOING and _worth(t)])
        self.route.update([(app, url, window) for _t, _a, app, url, window in held if app])

    @classmethod
    def of(cls, events: Sequence[UIEvent]) -> TypeWords:
        words = cls()
        words.add((e.target, e.action, e.app, e.url, e.window) for e in events)
        return words


_WORTH: dict[str, bool] = {}  # per distinct target, whether it may name a type


def _worth(target: str) -> bool:
    found = _WORTH.get(target)
    if found is None:
        if len(_WORTH) > 100_000:
            _WORTH.clear()
        t = target
        found = _WORTH[t] = not PLACEHOLDER.match(t) and sum(c.isalpha() for c in t) >= 2 and not t.isupper()
    return found


def name_types(events_of: Mapping[int, Sequence[UIEvent]]) -> dict[int, str]:
    """A readable, unique name per task type from the events of its instances."""
    return names_of({type_id: TypeWords.of(events) for type_id, events in events_of.items()})


def names_of(words: Mapping[int, TypeWords]) -> dict[int, str]:
    """`name_types` from each type's `TypeWords`."""
    counts = {type_id: w.targets for type_id, w in words.items()}
    orders = {type_id: list(w.targets) for type_id, w in words.items()}
    names: dict[int, str] = {}
    taken: set[str] = set()
    for type_id in sorted(words):
        route = " → ".join(_route(words[type_id].route)) or "task"
        ranked = _distinctive(type_id, counts, orders[type_id])
        shown = SHOWN_TARGETS
        while True:
            picked = sorted(ranked[:shown], key=orders[type_id].index)
            more = ", …" if len(ranked) > shown else ""
            name = f"{route}: {', '.join(picked)}{more}" if picked else route
            if name not in taken or shown >= len(ranked):
                break
            shown += 1
        base, k = name, 2
        while name in taken:
            name = f"{base} ({k})"
            k += 1
        taken.add(name)
        names[type_id] = name
    return names
