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
from veil.mining.base import Action, Candidate, Segmentation, UIEvent
from veil.mining.describe import Procedure
from veil.mining.groups import user_groups
from veil.mining.routines import WORKDAYS_PER_WEEK, instances, observed_workdays
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


def _examples(result: MiningResult, c: Candidate, frames: FrameLookup | None) -> list[Markup]:
    if frames is None:
        return []
    out: list[Markup] = []
    for inst in instances(result.events, result.segmentation):
        if inst.type_id != c.type_id:
            continue
        typed = [e for e in inst.events if e.action in {Action.TYPE, Action.COPY, Action.PASTE}]
        picks = (inst.events[0], typed[0] if typed else inst.events[len(inst.events) // 2])
        for e in picks:
            number = e.extra_value("frame")
            frame = frames(e.source, int(number)) if number is not None and number.isdigit() else None
            if frame is not None:
                out.append(Markup(svg.wireframe(frame)))
        break
    return out


def _candidate_view(
    result: MiningResult, rank: int, c: Candidate, frames: FrameLookup | None
) -> dict[str, object]:
    procedure = next((p for p in result.procedures if p.type_id == c.type_id), None)
    return {
        "rank": rank,
        "c": c,
        "median": _duration(c.median_seconds),
        "per_week": _duration(c.hours_per_week * 3600),
        "saved": _duration(c.hours_saved_per_month * 3600),
        "steps": [s.describe() for s in c.steps],
        "variants": [(v.count, 100 * v.count / c.instances, len(v.steps)) for v in c.variants[:5]],
        "map": Markup(svg.process_map(c)),
        "examples": _examples(result, c, frames),
        "procedure": procedure,
    }


def render_report(result: MiningResult, frames: FrameLookup | None = None) -> str:
    env = Environment(
        loader=PackageLoader("veil.mining", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    seg = result.segmentation
    cands = list(result.candidates)
    per_task = [(c.name, c.hours_per_week) for c in cands]
    per_group = group_hours(result)
    context = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "inputs": [Path(p).name for p in result.inputs],
        "exports": result.exports,
        "notes": result.notes,
        "events": len(result.events),
        "instances": len({c for c in seg.cases if c}),
        "types": len({t for t in seg.types if t >= 0}),
        "noise_share": 100 * sum(seg.noise) / max(len(seg.noise), 1),
        "people": len({e.user for e in result.events}),
        "days": observed_workdays(result.events),
        "candidates": [_candidate_view(result, k + 1, c, frames) for k, c in enumerate(cands)],
        "task_chart": Markup(svg.bar_chart(per_task, "h/week")) if per_task else "",
        "group_chart": Markup(svg.bar_chart(per_group, "h/week")) if per_group else "",
        "groups": len(per_group),
    }
    return env.get_template("report.html").render(**context)
