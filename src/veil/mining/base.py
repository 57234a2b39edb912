"""Models of task mining: a UI event log in, task instances, task types and ranked automation
candidates out. Nothing here holds a personal value: typed values are kept as their type
(`<phone>`) or a pseudonym label, and labels/titles/URLs are scrubbed on the way in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    TYPE = "type"  # typing into a labelled field
    CLICK = "click"
    SELECT = "select"
    SCROLL = "scroll"
    SWITCH = "switch"  # switching windows/apps/tabs
    NAVIGATE = "navigate"  # going to a URL
    COPY = "copy"
    PASTE = "paste"
    OTHER = "other"


# How a step names its action in `UIEvent.signature` (looked up: called for every event, often).
STEP_ACTION: dict[Action, str] = {
    a: "go to" if a in {Action.SWITCH, Action.NAVIGATE} else a.value for a in Action
}


@dataclass(frozen=True, slots=True)
class UIEvent:
    """One user action. `value` is a type placeholder (`<email>`) or a pseudonym label, never the
    typed text; `extra` keeps unknown columns of imported logs (scrubbed) in their input order."""

    timestamp: datetime  # timezone-aware, UTC
    user: str  # pseudonymous
    app: str
    window: str
    screen: str  # stable signature of the visible layout
    action: Action
    target: str  # the label of the field/button/link acted on
    value: str = ""
    url: str = ""
    source: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    record: str = ""  # which record the event touches (a spreadsheet row: "orders.xlsx row 7")
    # Keyed pseudonyms of the values the event moves (see `veil.mining.links`): held in memory to
    # link a copy to its paste, never exported, reported or printed.
    links: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def signature(self) -> tuple[str, str, str]:
        """What makes two events 'the same step' across instances. Reaching a page by switching
        windows or by navigating in the same one is the same step."""
        return (self.app, STEP_ACTION[self.action], self.target)

    def extra_value(self, key: str) -> str | None:
        for k, v in self.extra:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Segmentation:
    """Per event (same order as the log): the task instance (case) id and the task type id.
    Noise events that sit between instances get case `""` and type -1."""

    cases: tuple[str, ...]
    types: tuple[int, ...]
    noise: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a routine, described by what it does, never by a value."""

    app: str
    action: Action
    target: str
    value_type: str = ""

    def describe(self) -> str:
        what = {
            Action.TYPE: f"type {self.value_type or 'a value'} into '{self.target}'",
            Action.CLICK: f"click '{self.target}'",
            Action.SELECT: f"select '{self.target}'",
            Action.SCROLL: f"scroll {self.target}".rstrip(),
            Action.SWITCH: f"switch to '{self.target}'",
            Action.NAVIGATE: f"open {self.target}",
            Action.COPY: f"copy '{self.target}'",
            Action.PASTE: f"paste into '{self.target}'",
            Action.OTHER: f"act on '{self.target}'",
        }[self.action]
        return f"{self.app}: {what}" if self.app else what


@dataclass(frozen=True, slots=True)
class Variant:
    steps: tuple[Step, ...]
    count: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A task type (a cluster of task instances) with the figures that rank it for automation."""

    type_id: int
    name: str
    steps: tuple[Step, ...]  # the most frequent variant
    variants: tuple[Variant, ...]
    instances: int
    median_seconds: float
    hours_per_week: float
    users: int  # how many people, never who
    apps: tuple[str, ...]
    score: float  # 0..1
    score_parts: tuple[tuple[str, float], ...]
    hours_saved_per_month: float
    nodes: tuple[Step, ...] = ()  # the type's process map: steps seen in enough instances
    edges: tuple[tuple[int, int, int], ...] = ()  # (from node, to node, count); -1 is start/end
    example_frames: tuple[str, ...] = field(default=())  # sanitized text-layer frame refs
    app_share: tuple[tuple[str, float], ...] = ()  # share of the type's working time per app

    def people(self, minimum: int = 5) -> str:
        """How many people do this task, said so that nobody is singled out."""
        return f"{self.users}" if self.users >= minimum else f"fewer than {minimum}"
