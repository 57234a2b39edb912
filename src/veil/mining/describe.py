"""`veil mine --describe`: each candidate's steps, as a plain-language procedure, from a provider
reached through the egress gateway only.

A candidate's payload is text only: an instruction and its steps (app, screen name, action, target
label, value type), one JSON object per line. The steps come from sanitized data, yet the payload
is still cleared by `clear_payload` and re-scanned by the gateway: a value that slipped into a label
blocks that candidate ("blocked by the egress gateway: <reason>", which names types, never values)
and the run goes on. The `local` destination sends nothing anywhere; its answer is written by
`ProcedureWriter` from the cleared steps.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from veil.exceptions import EgressBlocked, EngineError
from veil.gateway.base import Provider, ProviderAnswer, ProviderError, RequestOptions
from veil.gateway.policy import Destination, EgressPolicy, load_policies
from veil.gateway.services import Services, default_analyzer, open_gateway, preflight
from veil.mining.base import Action, Candidate, Segmentation, Step, UIEvent
from veil.mining.routines import instances
from veil.models import Pixels
from veil.report import write_json_atomic
from veil.verify.base import Verdict, Verifier
from veil.verify.payload import SanitizedPayload, TextPart, clear_payload

if TYPE_CHECKING:
    from veil.gateway.gateway import Gateway
    from veil.options import Policy
    from veil.verify.payload import TextAnalyzer

STEPS_ROLE = "steps"
INSTRUCTION = (
    "These are the steps of a routine that employees repeat at work, mined from sanitized screen "
    "recordings: one JSON object per line with the app, the screen (window title), the action, the "
    "target (the label of the field, button or link) and the kind of value, shown as a placeholder "
    "such as <email>. Write a plain-language procedure someone could follow to do this task: a "
    "numbered list, one action per line. Keep the placeholders; do not invent values."
)
Status = Literal["described", "blocked", "failed"]
Screens = dict[tuple[str, str], str]  # (app, target) -> most frequent window title


@dataclass(frozen=True, slots=True)
class DescribeOptions:
    provider: str = "local"  # a destination name from the policy, or 'local' (no network)
    policy: Path | None = None  # the policy YAML (egress destinations); embedded defaults when None


@dataclass(frozen=True, slots=True)
class DescribePlan:
    """A checked destination, made before any mining work (see `prepare`)."""

    policy: Policy
    egress: EgressPolicy
    destination: Destination


@dataclass(frozen=True, slots=True)
class Procedure:
    """One candidate's procedure; `reason` (why not described) names types, never values."""

    type_id: int
    name: str
    destination: str
    status: Status
    text: str = ""
    reason: str = ""
    provider: str = ""
    model: str = ""
    payload_sha256: str = ""
    intent_id: str = ""  # the ledger's egress intent; empty for a local destination
    replayed: bool = False

    def shown(self) -> str:
        """What the report shows for this candidate."""
        if self.status == "blocked":
            return f"blocked by the egress gateway: {self.reason}"
        if self.status == "failed":
            return f"not described: {self.reason}"
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "type_id": self.type_id,
            "name": self.name,
            "destination": self.destination,
            "status": self.status,
            "procedure": self.text,
            "reason": self.reason,
            "provider": self.provider,
            "model": self.model,
            "payload_sha256": self.payload_sha256,
            "ledger_intent": self.intent_id,
            "replayed": self.replayed,
        }


class ProcedureWriter(Provider):
    """The local destination's answer: a numbered procedure from the cleared steps. No network."""

    name = "local"
    remote = False

    def send(self, payload: SanitizedPayload, options: RequestOptions) -> ProviderAnswer:
        rows = _step_rows(payload)
        if not rows:
            raise ProviderError(f"local provider: the payload has no '{STEPS_ROLE}' part")
        lines = [f"{n}. {_sentence(row)}" for n, row in enumerate(rows, start=1)]
        return ProviderAnswer(self.name, options.model, "\n".join(lines), payload.sha256)


def _step_rows(payload: SanitizedPayload) -> list[dict[str, Any]]:
    for part in payload.text_parts:
        if part.role == STEPS_ROLE:
            try:
                rows = [json.loads(line) for line in part.text.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise ProviderError(f"local provider: part '{STEPS_ROLE}' is not JSON lines") from exc
            return [r for r in rows if isinstance(r, dict)]
    return []


def _sentence(row: dict[str, Any]) -> str:
    try:
        action = Action(str(row.get("action", "")))
    except ValueError:
        action = Action.OTHER
    field = {k: str(row.get(k, "") or "") for k in ("app", "screen", "target", "value")}
    what = Step("", action, field["target"], field["value"]).describe()
    where = field["app"]
    if field["screen"] and field["screen"] != field["app"] and action not in {Action.SWITCH, Action.NAVIGATE}:
        where = f"{where} ('{field['screen']}')" if where else f"'{field['screen']}'"
    text = f"In {where}, {what}" if where else what[:1].upper() + what[1:]
    return text + "."


class _TextOnly(Verifier):
    """Procedure payloads carry no image; one that does is refused (clear_payload blocks it)."""

    def check(self, pixels: Pixels, frame_index: int) -> Verdict:
        raise EngineError("procedure payloads are text only")


# --- building and sending ----------------------------------------------------------------------


def prepare(options: DescribeOptions) -> DescribePlan:
    """Load the policy and check the destination; EgressBlocked/PolicyError before any work."""
    policy, egress = load_policies(options.policy)
    dest = egress.destination(options.provider)
    preflight(egress, dest)
    return DescribePlan(policy, egress, dest)


def screen_names(events: Sequence[UIEvent], seg: Segmentation) -> dict[int, Screens]:
    """Per task type: the window title each step (app, target) is most often done in."""
    counts: dict[int, dict[tuple[str, str], Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for inst in instances(events, seg):
        for e in inst.events:
            if e.window:
                counts[inst.type_id][(e.app, e.target)][e.window] += 1
    return {t: {k: c.most_common(1)[0][0] for k, c in by.items()} for t, by in counts.items()}


def procedure_parts(candidate: Candidate, screens: Screens) -> list[TextPart]:
    """The payload parts for one candidate: the instruction and its steps as JSON lines."""
    rows = []
    for n, step in enumerate(candidate.steps, start=1):
        row = {
            "step": n,
            "app": step.app,
            "screen": screens.get((step.app, step.target), ""),
            "action": step.action.value,
            "target": step.target,
            "value": step.value_type,
        }
        # Readable (not \\u-escaped) text, so the detectors re-scan what a reader would see.
        rows.append(json.dumps({k: v for k, v in row.items() if v != ""}, ensure_ascii=False))
    return [TextPart("instruction", INSTRUCTION), TextPart(STEPS_ROLE, "\n".join(rows))]


def describe(
    candidates: Sequence[Candidate],
    screens: dict[int, Screens],
    plan: DescribePlan,
    services: Services | None = None,
) -> tuple[Procedure, ...]:
    """Each candidate's procedure, in candidate order. A blocked or failed candidate is recorded
    as such and the others go on; a ledger failure stops the run."""
    services = (services or Services()).with_policy(plan.policy)  # the policy's ledger settings
    analyzer = services.analyzer or default_analyzer(plan.policy)
    verifier = services.verifier or _TextOnly()
    dest = plan.destination
    local = {dest.name: ProcedureWriter()} if not dest.remote else None
    with open_gateway(plan.egress, dest, analyzer, services, plan.policy.version, local) as gateway:
        return tuple(
            _describe_one(gateway, dest, c, screens.get(c.type_id, {}), analyzer, verifier)
            for c in candidates
        )


def _describe_one(
    gateway: Gateway,
    dest: Destination,
    candidate: Candidate,
    screens: Screens,
    analyzer: TextAnalyzer,
    verifier: Verifier,
) -> Procedure:
    head = (candidate.type_id, candidate.name, dest.name)
    try:
        payload = clear_payload(procedure_parts(candidate, screens), analyzer, verifier)
        answer = gateway.send(payload, dest.name)
    except EgressBlocked as exc:
        return Procedure(*head, status="blocked", reason=str(exc))
    except ProviderError as exc:
        return Procedure(*head, status="failed", reason=str(exc))
    return Procedure(
        *head,
        status="described",
        text=answer.text.strip(),
        provider=answer.provider,
        model=answer.model,
        payload_sha256=answer.payload_sha256,
        intent_id=answer.intent_id,
        replayed=answer.replayed,
    )


def write_procedures(path: Path, procedures: Sequence[Procedure]) -> Path:
    write_json_atomic(path, {"procedures": [p.to_json() for p in procedures]})
    return path
