"""User groups for the report: taken from a team/department column when the log has one, and
merged until each has at least `MIN_GROUP` people, so no figure describes a few individuals."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from veil.mining.base import UIEvent

MIN_GROUP = 5
GROUP_COLUMNS = ("team", "userGroup", "group", "department", "org:group")
ALL = "all users"
MERGED = "other groups (merged)"


def _raw_groups(events: Sequence[UIEvent]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        name = next((v for k in GROUP_COLUMNS if (v := e.extra_value(k) or e.extra_value(f"extra.{k}"))), "")
        votes[e.user][name or ALL] += 1
    return {user: c.most_common(1)[0][0] for user, c in votes.items()}


def user_groups(events: Sequence[UIEvent], min_size: int = MIN_GROUP) -> dict[str, str]:
    """user -> group, every group with at least `min_size` people where the log allows it.
    Groups that are too small are merged; if the merged remainder is still too small it joins the
    smallest large group; with fewer than `min_size` people in all, everyone is in one group."""
    return groups_of(_raw_groups(events), min_size)


def groups_of(raw: dict[str, str], min_size: int = MIN_GROUP) -> dict[str, str]:
    """`user_groups` from each user's group as the log names it."""
    members: dict[str, set[str]] = defaultdict(set)
    for user, group in raw.items():
        members[group].add(user)
    large = {g for g, m in members.items() if len(m) >= min_size}
    small_users = {u for g, m in members.items() if g not in large for u in m}
    mapping = {u: raw[u] for u in raw if raw[u] in large}
    if not small_users:
        return mapping
    if len(small_users) >= min_size or not large:
        target = MERGED if large else ALL
    else:
        smallest = min(large, key=lambda g: (len(members[g]), g))
        target = f"{smallest} + others"
        mapping = {u: (target if g == smallest else g) for u, g in mapping.items()}
    mapping.update({u: target for u in small_users})
    return mapping
