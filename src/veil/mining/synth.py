"""Synthetic UI logs with planted routines and per-event ground truth, for tests and bench/.

All people, values and companies are invented: typed values are fake e-mails/phones/addresses on
purpose, so tests can prove none of them survives into mining outputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

NOISE_TYPE = "noise"


@dataclass(frozen=True, slots=True)
class PlantedStep:
    app: str
    event_type: str  # Action Logger eventType
    target: str
    value_kind: str = ""  # "email" | "phone" | "text" | "number" | "" (no value)
    url: str = ""
    optional: bool = False


@dataclass(frozen=True, slots=True)
class PlantedRoutine:
    name: str
    steps: tuple[PlantedStep, ...]
    swap: tuple[int, int] | None = None  # two step indices that may come in either order
    weight: float = 1.0


def _s(
    app: str, kind: str, target: str, value: str = "", url: str = "", optional: bool = False
) -> PlantedStep:
    return PlantedStep(app, kind, target, value, url, optional)


ADMIN = "https://shop-admin.example/"
# Steps several routines share, as real tasks share their copy, paste and "read the request"
# steps: a routine is told apart by the rest (which fields, which pages), not by these.
READ_REQUEST = _s("Outlook", "clickListItem", "Request e-mail")
REPLY_DONE = _s("Outlook", "clickButton", "Reply")
ROUTINES: tuple[PlantedRoutine, ...] = (
    PlantedRoutine(
        "copy order to spreadsheet",
        (
            READ_REQUEST,
            _s("Chrome", "link", "Orders", url=ADMIN + "orders"),
            _s("Chrome", "clickLink", "Order details", url=ADMIN + "orders/4711"),
            _s("Chrome", "copy", "Order number", "number", ADMIN + "orders/4711"),
            _s("Excel", "selectTab", "Orders.xlsx"),
            _s("Excel", "editCell", "Order number column", "number"),
            _s("Chrome", "selectTab", "Order admin", url=ADMIN + "orders/4711"),
            _s("Chrome", "copy", "Customer e-mail", "email", ADMIN + "orders/4711"),
            _s("Excel", "selectTab", "Orders.xlsx"),
            _s("Excel", "paste", "E-mail column", "email"),
            _s("Excel", "editCell", "Total column", "number", optional=True),
        ),
        swap=None,
        weight=1.2,
    ),
    PlantedRoutine(
        "refund a payment",
        (
            READ_REQUEST,
            _s("Chrome", "link", "Payments", url="https://pay.example/payments"),
            _s("Chrome", "editField", "Search payment", "text", "https://pay.example/payments"),
            _s("Chrome", "clickButton", "Search", url="https://pay.example/payments"),
            _s("Chrome", "clickLink", "Payment row", url="https://pay.example/payments/88"),
            _s("Chrome", "clickButton", "Refund", url="https://pay.example/payments/88"),
            _s("Chrome", "editField", "Refund reason", "text", "https://pay.example/payments/88"),
            _s("Chrome", "editField", "Refund amount", "number", "https://pay.example/payments/88"),
            _s("Chrome", "clickButton", "Confirm refund", url="https://pay.example/payments/88"),
            REPLY_DONE,
        ),
        swap=(6, 7),
    ),
    PlantedRoutine(
        "update a delivery address",
        (
            _s("CRM", "clickButton", "Customers"),
            _s("CRM", "editField", "Customer search", "text"),
            _s("CRM", "clickListItem", "Customer result"),
            _s("CRM", "clickButton", "Edit address"),
            _s("CRM", "editField", "Street", "text"),
            _s("CRM", "editField", "Postal code", "number"),
            _s("CRM", "editField", "Phone", "phone", optional=True),
            _s("CRM", "clickButton", "Save address"),
            _s("Outlook", "editField", "Confirmation e-mail to", "email"),
            _s("Outlook", "clickButton", "Send"),
        ),
        swap=(4, 5),
        weight=0.9,
    ),
    PlantedRoutine(
        "answer a support ticket",
        (
            _s("Helpdesk", "clickButton", "Open tickets"),
            _s("Helpdesk", "clickListItem", "Ticket row"),
            _s("Helpdesk", "clickButton", "Reply"),
            _s("Helpdesk", "selectOptions", "Reply template"),
            _s("Helpdesk", "editField", "Reply text", "text"),
            _s("Helpdesk", "clickButton", "Send reply"),
            REPLY_DONE,
        ),
        weight=0.8,
    ),
)

NOISE_STEPS: tuple[PlantedStep, ...] = (
    _s("Outlook", "clickListItem", "Inbox message"),
    _s("Outlook", "scroll", "Inbox"),
    _s("Teams", "clickButton", "Chat"),
    _s("Teams", "editField", "Chat message", "text"),
    _s("Chrome", "link", "News", url="https://intranet.example/news"),
    _s("Chrome", "scroll", "News page", url="https://intranet.example/news"),
    _s("Explorer", "clickButton", "Downloads"),
    _s("Calendar", "clickButton", "Today"),
    _s("Chrome", "clickButton", "Notifications", url="https://intranet.example/"),
    _s("Excel", "getCell", "Budget sheet cell"),
    _s("Teams", "clickButton", "Calls"),
    _s("Outlook", "clickButton", "Archive"),
)

_FIRST = ("Jane", "Camille", "Haruto", "Minjun", "Léa", "Oliver", "Yuki", "Seo-yeon")
_LAST = ("Doe", "Martin", "Sato", "Kim", "Bernard", "Smith", "Tanaka", "Park")


def fake_value(kind: str, rng: random.Random) -> str:
    """An invented personal-looking value of the given kind."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    if kind == "email":
        return f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.com"
    if kind == "phone":
        return rng.choice(("+33 6 {} {} {} {}", "010-{}{}-{}{}", "+1 415 55{}{} {}{}")).format(
            *(f"{rng.randint(10, 99)}" for _ in range(4))
        )
    if kind == "number":
        return str(rng.randint(10000, 999999))
    if kind == "text":
        return f"{first} {last}, {rng.randint(1, 200)} rue des Lilas"
    return ""


@dataclass(frozen=True, slots=True)
class LogSpec:
    users: int = 8
    instances_per_user: int = 30
    noise: float = 0.10  # share of all events that are noise
    routines: tuple[PlantedRoutine, ...] = ROUTINES
    seed: int = 7
    start: datetime = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    groups: tuple[str, ...] = ("Customer service", "Billing")


def _letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(97 + r) + out
    return out


def _instance_steps(routine: PlantedRoutine, rng: random.Random) -> list[PlantedStep]:
    steps = [s for s in routine.steps if not s.optional or rng.random() < 0.6]
    if routine.swap is not None and rng.random() < 0.4:
        a, b = (routine.steps[i] for i in routine.swap)
        if a in steps and b in steps:
            i, j = steps.index(a), steps.index(b)
            steps[i], steps[j] = b, a
    return steps


def _row(step: PlantedStep, when: datetime, user: str, group: str, rng: random.Random) -> dict[str, str]:
    return {
        "timeStamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "userID": user,
        "targetApp": step.app,
        "eventType": step.event_type,
        "url": step.url,
        "content": fake_value(step.value_kind, rng),
        "target.name": step.target,
        "target.value": "",
        "team": group,
    }


def _user_rows(spec: LogSpec, u: int, rng: random.Random) -> list[dict[str, str]]:
    user = f"{_FIRST[u % len(_FIRST)].lower()}.{_LAST[(u * 3) % len(_LAST)].lower()}{u}"
    group = spec.groups[u % len(spec.groups)]
    speed = rng.uniform(0.6, 1.7)
    when = spec.start + timedelta(minutes=rng.uniform(0, 20))
    weights = [r.weight for r in spec.routines]
    rows: list[dict[str, str]] = []
    p_noise = spec.noise / (1 - spec.noise)  # per task event, so noise is `noise` of all events
    for k in range(spec.instances_per_user):
        routine = rng.choices(spec.routines, weights)[0]
        instance = f"{user[:3]}{u}-{_letters(k)}"
        for step in _instance_steps(routine, rng):
            if rng.random() < p_noise:
                when += timedelta(seconds=speed * rng.lognormvariate(1.2, 0.5))
                noise_row = _row(rng.choice(NOISE_STEPS), when, user, group, rng)
                rows.append({**noise_row, "truth.type": NOISE_TYPE, "truth.instance": ""})
            when += timedelta(seconds=speed * rng.lognormvariate(1.2, 0.5))
            rows.append(
                {**_row(step, when, user, group, rng), "truth.type": routine.name, "truth.instance": instance}
            )
        pause = rng.choice((2.0, 5.0, 20.0, 60.0, 600.0))
        when += timedelta(seconds=speed * rng.uniform(0.5, 1.5) * pause)
    return rows


def generate_log(spec: LogSpec = LogSpec()) -> list[dict[str, str]]:
    """Action Logger rows of several users working in parallel, sorted by time, with the ground
    truth in the extra columns `truth.type` and `truth.instance`."""
    rng = random.Random(spec.seed)
    rows = [row for u in range(spec.users) for row in _user_rows(spec, u, rng)]
    rows.sort(key=lambda r: r["timeStamp"])
    return rows


def write_log(rows: list[dict[str, str]], path: Path) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path
