from __future__ import annotations

from datetime import UTC, datetime

import pytest

from veil.mining.base import Action, UIEvent
from veil.mining.groups import ALL, MERGED, user_groups


def _log(sizes: dict[str, int]) -> list[UIEvent]:
    t = datetime(2026, 1, 5, tzinfo=UTC)
    out = []
    for group, n in sizes.items():
        for k in range(n):
            extra = (("team", group),) if group else ()
            out.append(UIEvent(t, f"u-{group[:2]}{k}", "App", "W", "s", Action.CLICK, "Go", extra=extra))
    return out


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"Billing": 6, "Sales": 5}, {"Billing": 6, "Sales": 5}),
        ({"Billing": 6, "Sales": 2, "Legal": 3}, {"Billing": 6, MERGED: 5}),
        ({"Billing": 6, "Sales": 2}, {"Billing + others": 8}),
        ({"Billing": 3, "Sales": 1}, {ALL: 4}),
        ({"": 7}, {ALL: 7}),
    ],
)
def test_groups_below_five_people_are_merged(sizes: dict[str, int], expected: dict[str, int]) -> None:
    mapping = user_groups(_log(sizes))
    counts: dict[str, int] = {}
    for group in mapping.values():
        counts[group] = counts.get(group, 0) + 1
    assert counts == expected
    assert all(n >= 5 for n in counts.values()) or len(counts) == 1
