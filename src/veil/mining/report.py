"""The self-contained HTML task-mining report (Jinja2; inline SVG and CSS, nothing external).

It is about tasks, not people: no per-person figure, no idle time; time by user group only for
groups of at least five people (see `groups`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from veil.mining import svg
from veil.mining.base import Candidate, Segmentation, Step, UIEvent
from veil.mining.describe import Procedure
from veil.mining.groups import MIN_GROUP, user_groups
from veil.mining.routines import WEEKS_PER_MONTH, WORKDAYS_PER_WEEK, instances, observed_workdays
from veil.mining.textlayer import TextFrame

FrameLookup = Callable[[str, int], TextFrame | None]


@dataclass(frozen=True, slots=True)
class MiningResult:
    events: tuple[UIEvent, ...]
    segmentation: Segmentation
    candidates: tuple[Candidate, ...]
    inputs: tuple[str, ...]
    exports: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    procedures: tuple[Procedure, ...] = ()  # from `--describe`, by candidate type_id


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def group_hours(result: MiningResult) -> list[tuple[str, float]]:
    """Hours per week spent in task instances, per user group (groups of five or more people)."""
    groups = user_groups(result.events)
    days = observed_workdays(result.events)
    total: dict[str, float] = defaultdict(float)
    for inst in instances(result.events, result.segmentation):
        total[groups.get(inst.events[0].user, "")] += inst.seconds / 3600 / days * WORKDAYS_PER_WEEK
    return sorted(total.items(), key=lambda kv: -kv[1])


MAX_EXAMPLE_STEPS = 8


def _examples(result: MiningResult, c: Candidate, frames: FrameLookup | None) -> list[tuple[str, Markup]]:
    """A sanitized example screen per step of the main variant (recordings only: UI logs hold no
    screens): the frame of the first event of that step in an instance of this type."""
    if frames is None:
        return []
    wanted = {(s.app, s.target): s for s in c.steps[:MAX_EXAMPLE_STEPS]}
    found: dict[tuple[str, str], Markup] = {}
    for inst in instances(result.events, result.segmentation):
        if inst.type_id != c.type_id:
            continue
        for e in inst.events:
            key = (e.app, e.target)
            number = e.extra_value("frame")
            if key not in wanted or key in found or number is None or not number.isdigit():
                continue
            frame = frames(e.source, int(number))
            if frame is not None:
                found[key] = Markup(svg.wireframe(frame))
        if len(found) == len(wanted):
            break
    return [(wanted[k].describe(), found[k]) for k in wanted if k in found]


def variant_difference(main: tuple[Step, ...], other: tuple[Step, ...]) -> str:
    """How a variant differs from the most frequent one, in steps added and left out."""
    if other == main:
        return "the most frequent variant"
    added = [s.describe() for s in other if s not in main]
    left = [s.describe() for s in main if s not in other]
    parts = []
    if added:
        parts.append("adds " + "; ".join(added[:4]) + (" …" if len(added) > 4 else ""))
    if left:
        parts.append("leaves out " + "; ".join(left[:4]) + (" …" if len(left) > 4 else ""))
    if not parts:
        repeats = len(other) - len(set(other))
        return f"the same steps, {repeats} repeated" if repeats else "the same steps in another order"
    return ", ".join(parts)


def _candidate_view(
    result: MiningResult, rank: int, c: Candidate, examples: list[tuple[str, Markup]]
) -> dict[str, object]:
    procedure = next((p for p in result.procedures if p.type_id == c.type_id), None)
    return {
        "rank": rank,
        "c": c,
        "median": _duration(c.median_seconds),
        "per_week": _duration(c.hours_per_week * 3600),
        "saved": _duration(c.hours_saved_per_month * 3600),
        "steps": [s.describe() for s in c.steps],
        "variants": [
            (v.count, 100 * v.count / c.instances, len(v.steps), variant_difference(c.steps, v.steps))
            for v in c.variants[:5]
        ],
        "people": c.people(MIN_GROUP),
        "apps": [(app, 100 * share) for app, share in c.app_share],
        "map": Markup(svg.process_map(c)),
        "examples": examples,
        "procedure": procedure,
    }


@dataclass(frozen=True, slots=True)
class Figures:
    """The log's figures the report shows, beside the candidates."""

    events: int
    instances: int
    types: int
    noise: int  # noise events
    people: int
    days: int
    per_group: list[tuple[str, float]]  # hours per week per user group (none under five people)

    @classmethod
    def of(cls, result: MiningResult) -> Figures:
        seg = result.segmentation
        people = len({e.user for e in result.events})
        # Fewer than five people in all: time by group would describe individuals.
        return cls(
            events=len(result.events),
            instances=len({c for c in seg.cases if c}),
            types=len({t for t in seg.types if t >= 0}),
            noise=sum(seg.noise),
            people=people,
            days=observed_workdays(result.events),
            per_group=group_hours(result) if people >= MIN_GROUP else [],
        )


def render_report(result: MiningResult, frames: FrameLookup | None = None) -> str:
    return render_figures(
        Figures.of(result), result, lambda c: _examples(result, c, frames) if frames is not None else []
    )


def render_figures(
    figures: Figures, result: MiningResult, examples: Callable[[Candidate], list[tuple[str, Markup]]]
) -> str:
    """The report of `figures` and `result`'s candidates, inputs, exports, notes and procedures
    (its events and segmentation are not read)."""
    env = Environment(
        loader=PackageLoader("veil.mining", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    cands = list(result.candidates)
    per_task = [(c.name, c.hours_per_week) for c in cands]
    per_group = figures.per_group
    context = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "inputs": [Path(p).name for p in result.inputs],
        "exports": result.exports,
        "notes": result.notes,
        "events": figures.events,
        "instances": figures.instances,
        "types": figures.types,
        "noise_share": 100 * figures.noise / max(figures.events, 1),
        "few_people": figures.people < MIN_GROUP,
        "min_group": MIN_GROUP,
        "weeks_per_month": WEEKS_PER_MONTH,
        "days": figures.days,
        "candidates": [_candidate_view(result, k + 1, c, examples(c)) for k, c in enumerate(cands)],
        "task_chart": Markup(svg.bar_chart(per_task, "h/week")) if per_task else "",
        "group_chart": Markup(svg.bar_chart(per_group, "h/week")) if per_group else "",
        "groups": len(per_group),
    }
    return env.get_template("report.html").render(**context)
