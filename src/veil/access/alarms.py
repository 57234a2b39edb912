"""Access alarms over the ledger's access entries: the rules, pure and deterministic.

Rules (thresholds in the policy's `access.alarms`):

    bulk-recordings   more than `max_recordings` distinct recordings read by one account within
                      `window_minutes`
    bulk-owners       more than `max_owners` distinct owners (people or teams whose recordings
                      they are, "customers' areas") read by one account within the window
    new-data-area     an account reads an owner it never read before, once its learning period
                      (`new_area_learning_days` after its first read) is over
    off-hours         an access outside `working_hours` / `working_days` in `timezone`
    inactive-account  any access (a read, a refused read, a break-glass request) by an account the
                      ledger shows as leaving or revoked at that moment

The server's task-mining runs read every text layer as the service account `MINING_SERVICE`,
each read naming the person who started the run (`on_behalf_of`): those reads are exempt from the
three read rules (bulk-recordings, bulk-owners, new-data-area), never a person's own reads, nor a
service read without `on_behalf_of`. The owner comes from the entry itself; `owner_of` is asked only
for entries that do not carry one (written before they did, and raw-access entries).

Each rule fires at most once per account per window: after an alarm at time t, the same rule for the
same account stays quiet until t + window. Entries are scanned in ledger order, so the same entries
give the same alarms however they are cut into evaluations. `veil.access.alarm_log` stores them,
appends them to the ledger once, and remembers where it stopped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from veil.access.ledger_read import Entry
from veil.access.roles import MINING_SERVICE
from veil.options import AlarmOptions

if TYPE_CHECKING:
    from veil.access.alarm_log import Alarm
    from veil.audit.store import Ledger

# Reads that succeeded; a raw upload for a batch redaction job counts as raw access.
READ_KINDS = ("object-read", "raw-access", "raw-upload")
ACCESS_KINDS = (*READ_KINDS, "access-refused", "break-glass-request")
STATUS_KINDS = ("access-change",)
UNKNOWN_ACCOUNT = "unknown-account"

OwnerOf = Callable[[str], str | None]  # recording id -> its owner, when the entry does not say


class Rule(StrEnum):
    BULK_RECORDINGS = "bulk-recordings"
    BULK_OWNERS = "bulk-owners"
    NEW_DATA_AREA = "new-data-area"
    OFF_HOURS = "off-hours"
    INACTIVE_ACCOUNT = "inactive-account"


@dataclass(frozen=True)
class Access:
    """One access entry, as the rules see it."""

    seq: int
    time: datetime
    kind: str
    account: str
    recording_id: str
    owner: str | None
    on_behalf_of: str = ""

    @property
    def is_read(self) -> bool:
        return self.kind in READ_KINDS

    @property
    def is_mining_run(self) -> bool:
        """A read by the mining service account for a named person (exempt from the read rules)."""
        return self.account == MINING_SERVICE and bool(self.on_behalf_of)


@dataclass(frozen=True)
class Trigger:
    """A rule fired: on `account`, at the entry `trigger_seq`, because of the entries `seqs`."""

    rule: Rule
    account: str
    window_start: datetime
    trigger_time: datetime
    trigger_seq: int
    seqs: tuple[int, ...]
    detail: str


@dataclass
class ScanState:
    """What the rules remember between entries; `alarm_log` rebuilds and persists it."""

    status: dict[str, str] = field(default_factory=dict)  # account -> "leaving" | "revoked"
    recent: dict[str, deque[Access]] = field(default_factory=dict)  # reads within the window
    areas: dict[str, set[str]] = field(default_factory=dict)  # owners each account has read
    new_areas: set[tuple[str, str]] = field(default_factory=set)  # (account, owner) learnt this scan
    first_seen: dict[str, datetime] = field(default_factory=dict)
    known_accounts: set[str] = field(default_factory=set)  # accounts whose first read is stored
    quiet_until: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (rule, account)


def to_access(entry: Entry, owner_of: OwnerOf | None = None) -> Access | None:
    """The access an entry records, or None when it is no access (or names no known account)."""
    if entry.kind not in ACCESS_KINDS:
        return None
    ev = entry.event
    account = str(ev.get("who") or ev.get("requester") or "")
    if not account or account == UNKNOWN_ACCOUNT:
        return None
    recording = str(ev.get("recording_id") or "")
    owner = ev.get("owner")
    if not owner and owner_of is not None and recording:
        owner = owner_of(recording)
    behalf = str(ev.get("on_behalf_of") or "")
    return Access(
        entry.seq, entry.time, entry.kind, account, recording, str(owner) if owner else None, behalf
    )


def apply_status(state: ScanState, entry: Entry) -> None:
    """Follow an access-change entry: leaving, staying, revoked, a new account."""
    ev = entry.event
    user, action = str(ev.get("user", "")), str(ev.get("action", ""))
    if action == "leaving":
        state.status[user] = "leaving"
    elif action == "revoked":
        state.status[user] = "revoked"
    elif action in ("staying", "user-added"):
        state.status.pop(user, None)


class AlarmRules:
    """The rules with their thresholds; `scan` turns entries into triggers and updates the state."""

    def __init__(self, options: AlarmOptions | None = None) -> None:
        self.options = options or AlarmOptions()
        self.window = timedelta(minutes=self.options.window_minutes)
        self.learning = timedelta(days=self.options.new_area_learning_days)
        self.zone = ZoneInfo(self.options.timezone)

    def scan(
        self, entries: Iterable[Entry], state: ScanState, owner_of: OwnerOf | None = None
    ) -> list[Trigger]:
        out: list[Trigger] = []
        for entry in entries:
            if entry.kind in STATUS_KINDS:
                apply_status(state, entry)
                continue
            access = to_access(entry, owner_of)
            if access is not None:
                out += self.check(access, state)
        return out

    def warm(self, entries: Iterable[Entry], state: ScanState, owner_of: OwnerOf | None = None) -> None:
        """Fill the sliding windows with reads already evaluated (no rule fires)."""
        for entry in entries:
            access = to_access(entry, owner_of)
            if access is not None and access.is_read and not access.is_mining_run:
                self._remember(access, state)

    def check(self, a: Access, state: ScanState) -> list[Trigger]:
        fired: list[Trigger | None] = []
        status = state.status.get(a.account)
        if status:
            fired.append(self._fire(Rule.INACTIVE_ACCOUNT, a, state, (a,), f"account is {status}"))
        if not self.in_hours(a.time):
            local = a.time.astimezone(self.zone)
            fired.append(
                self._fire(Rule.OFF_HOURS, a, state, (a,), f"{local:%a %H:%M} {self.options.timezone}")
            )
        if a.is_read and not a.is_mining_run:
            fired += self._check_read(a, state)
        return [t for t in fired if t is not None]

    def _check_read(self, a: Access, state: ScanState) -> list[Trigger | None]:
        fired: list[Trigger | None] = []
        first = state.first_seen.setdefault(a.account, a.time)
        if a.owner is not None:
            known = state.areas.setdefault(a.account, set())
            if a.owner not in known:
                known.add(a.owner)
                state.new_areas.add((a.account, a.owner))
                if self.options.new_area and a.time - first >= self.learning:
                    fired.append(self._fire(Rule.NEW_DATA_AREA, a, state, (a,), "first read of an owner"))
        window = self._remember(a, state)
        recordings = {r.recording_id for r in window}
        if len(recordings) > self.options.max_recordings:
            detail = f"{len(recordings)} recordings in {self.options.window_minutes} min"
            fired.append(self._fire(Rule.BULK_RECORDINGS, a, state, tuple(window), detail))
        owners = {r.owner for r in window if r.owner is not None}
        if len(owners) > self.options.max_owners:
            detail = f"{len(owners)} owners in {self.options.window_minutes} min"
            fired.append(self._fire(Rule.BULK_OWNERS, a, state, tuple(window), detail))
        return fired

    def _remember(self, a: Access, state: ScanState) -> deque[Access]:
        window = state.recent.setdefault(a.account, deque())
        window.append(a)
        while window and window[0].time <= a.time - self.window:
            window.popleft()
        return window

    def _fire(
        self, rule: Rule, a: Access, state: ScanState, because: tuple[Access, ...], detail: str
    ) -> Trigger | None:
        key = (rule.value, a.account)
        until = state.quiet_until.get(key)
        if until is not None and a.time < until:
            return None
        state.quiet_until[key] = a.time + self.window
        seqs = tuple(sorted({x.seq for x in because}))
        start = min(x.time for x in because)
        return Trigger(rule, a.account, start, a.time, a.seq, seqs, detail)

    def in_hours(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        start, end = self.options.working_hours
        return local.isoweekday() in self.options.working_days and start <= local.hour < end


def compact(seqs: Iterable[int], limit: int = 190) -> str:
    """ "3-7,9,12-15" (cut with "..." past `limit` characters)."""
    parts: list[str] = []
    ordered = sorted(set(seqs))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    text = ",".join(parts)
    if len(text) <= limit:
        return text
    return text[: limit - 3].rsplit(",", 1)[0] + ",..."


def evaluate(ledger: Ledger, now: datetime | None = None, **kw: Any) -> list[Alarm]:
    """Evaluate the alarms on the entries appended since the last call (see `AlarmLog.evaluate`);
    keywords: catalog_url, options, owner_of."""
    from veil.access.alarm_log import evaluate as run

    return run(ledger, now, **kw)
