"""One validated options model shared by the CLI and the API.

The policy file (YAML) is validated once, at the edge: a missing file, a parse error or an unknown
key stops the run before anything is written, with a message naming the key and the fix.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from veil.exceptions import PolicyError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OcrOptions(_Strict):
    engine: Literal["auto", "rapidocr", "tesseract"] = "auto"
    verifier_engine: Literal["auto", "rapidocr", "tesseract"] = "auto"
    timeout_seconds: float = Field(default=120.0, gt=0)
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    # onnxruntime intra-op threads for PP-OCR; 2 uses both cores of the reference machine.
    threads: int = Field(default=2, ge=1, le=64)


class RedactOptions(_Strict):
    margin_px: int = Field(default=4, ge=0, le=64)
    color: tuple[int, int, int] = (0, 0, 0)
    labels: bool = False
    # Each masked value's placeholder in the text layer carries a per-recording pseudonym
    # (`<email:3f9a2c1b>`), so `veil mine` can follow a value from a sheet to a form.
    value_links: bool = True
    # When the verifier's re-scan finds a value the primary pass missed: mask the lines it was read
    # on and re-scan the whole frame again, delivering it only if that finds nothing
    # ("mask-and-recheck"), or mask the frame whole at once ("mask-frame").
    on_verifier_hit: Literal["mask-and-recheck", "mask-frame"] = "mask-and-recheck"


_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")
_CHECKSUM_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")


def checksum_validator(name: str) -> Callable[[str], bool]:
    """The `is_valid` of a python-stdnum module named like "luhn", "us.ssn" or "iso7064.mod_97_10";
    ValueError naming what is wrong otherwise."""
    if not _CHECKSUM_NAME.fullmatch(name):
        raise ValueError(f"not a python-stdnum module name: {name!r} (e.g. 'luhn', 'us.ssn')")
    try:
        module = importlib.import_module(f"stdnum.{name}")
    except ImportError:
        raise ValueError(f"python-stdnum has no module {name!r} (e.g. 'luhn', 'us.ssn')") from None
    is_valid = getattr(module, "is_valid", None)
    if not callable(is_valid):
        raise ValueError(f"python-stdnum module {name!r} has no is_valid() to check with")
    return cast(Callable[[str], bool], is_valid)


class CustomPattern(_Strict):
    """An organisation's own identifier (`detect.patterns`): a regular expression (searched,
    case-sensitive unless it says `(?i)`), an optional python-stdnum check on the match without its
    separators, and the labels that announce it on screen (which also mask it while it is typed)."""

    type: str
    regex: str
    checksum: str | None = None
    labels: tuple[str, ...] = ()
    # Mask only when one of `labels` stands before the value or heads its column.
    needs_label: bool = False
    score: float = Field(default=0.85, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _check(self) -> CustomPattern:
        if not _TYPE_NAME.fullmatch(self.type):
            raise ValueError(f"type must be lower-case letters, digits and '_' (2-40): {self.type!r}")
        try:
            compiled = re.compile(self.regex)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {self.regex!r} ({exc.msg})") from None
        if compiled.fullmatch(""):
            raise ValueError(f"the regular expression matches the empty string: {self.regex!r}")
        if self.checksum is not None:
            checksum_validator(self.checksum)
        if self.needs_label and not self.labels:
            raise ValueError("needs_label is true but no labels are given")
        if any(not label.strip() for label in self.labels):
            raise ValueError("a label must not be empty")
        return self


class DetectOptions(_Strict):
    disabled_types: tuple[str, ...] = ()
    min_score: float = Field(default=0.4, ge=0.0, le=1.0)
    # Extra screen labels -> the personal-data type they announce, e.g. {"수취인": "person_name"}.
    labels: dict[str, str] = Field(default_factory=dict)
    faces: bool = True
    # Values never masked, compared case-insensitively with spaces collapsed (a shop's own support
    # line, a public company address). Everything else about them is still checked.
    allow: tuple[str, ...] = ()
    # Terms always masked wherever they appear (a project code name, a client's name): type `denied_term`.
    deny: tuple[str, ...] = ()
    patterns: tuple[CustomPattern, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> DetectOptions:
        for key, values in (("allow", self.allow), ("deny", self.deny)):
            if any(not v.strip() for v in values):
                raise ValueError(f"an entry of '{key}' is empty")
        types = [p.type for p in self.patterns]
        if len(set(types)) != len(types):
            raise ValueError("two custom patterns share one type; give each its own")
        return self


class VideoOptions(_Strict):
    codec: Literal["libx264"] = "libx264"
    pixel_format: Literal["yuv444p", "yuv420p"] = "yuv444p"
    crf: int = Field(default=12, ge=0, le=51)
    max_frame_pixels: int = Field(default=64_000_000, gt=0)


class WindowRule(_Strict):
    """A window that must never be recorded: regular expressions (case-insensitive, searched)
    on the application name, the window title and the URL; every one given must match."""

    app: str | None = None
    title: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _check(self) -> WindowRule:
        given = [p for p in (self.app, self.title, self.url) if p is not None]
        if not given:
            raise ValueError("a deny rule needs at least one of app, title, url")
        for pattern in given:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {pattern!r} ({exc.msg})") from None
        return self


class CaptureOptions(_Strict):
    # Confidential windows: a frame showing one is masked (the window's region when its bounds
    # are known from the sidecar, else the whole frame). Without metadata, the title bar / address
    # bar text read by OCR is matched against `title` and `url`.
    deny: tuple[WindowRule, ...] = ()


class WitnessOptions(_Strict):
    """A witness (C2SP tlog-witness) asked to cosign every checkpoint; `veil witness key` prints vkey."""

    url: str = Field(pattern=r"^https?://\S+$")
    vkey: str = Field(pattern=r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$")


class LedgerOptions(_Strict):
    enabled: bool = True
    # SQLAlchemy URL; default: SQLite in the Veil home folder. PostgreSQL in production.
    url: str | None = None
    # Folder of the signing key and its signed state file; keep it apart from the database
    # (another disk or owner). Default: VEIL_LEDGER_KEY_DIR, else the Veil home folder.
    key_dir: Path | None = None
    # `unix:PATH`: the key lives in `veil audit signer serve` behind that socket (default:
    # VEIL_LEDGER_SIGNER; unset: the key file in key_dir).
    signer: str | None = Field(default=None, pattern=r"^unix:\S+$")
    witnesses: list[WitnessOptions] = []


class ScaleOptions(_Strict):
    """How a long recording is shared among worker processes (see `veil.workers`)."""

    # None: one per usable core. 1 runs in this process.
    workers: int | None = Field(default=None, ge=1, le=64)
    # The change tracker restarts with a full read every so many frames; a worker takes whole
    # segments of this length. 150 frames = 30 s at 5 fps, the incremental path's own refresh
    # period, so segments add almost no full reads.
    segment_frames: int = Field(default=150, ge=10, le=100_000)
    # "local": the worker processes of this host (`veil.workers`); "ray": segments as Ray tasks on
    # long-lived actors, a local Ray by default or a cluster through RAY_ADDRESS (`veil.scale`).
    engine: Literal["local", "ray"] = "local"


class AgentOptions(_Strict):
    """The capture agent (`veil record`): how often it looks at the screen and what it keeps.
    The server's state (`fps_cap`, `daily_cap_minutes`) can only lower these, never raise them."""

    # Frames kept per second at most; a frame is kept only when the screen changed.
    fps_cap: float = Field(default=5.0, gt=0.0, le=30.0)
    # A still screen still gets a frame this often (the recording shows it was still there).
    heartbeat_seconds: float = Field(default=10.0, gt=0.0, le=600.0)
    # Length of an uploaded segment (verified redacted video + text layer + manifest).
    segment_seconds: float = Field(default=20.0, ge=2.0, le=300.0)
    # Minutes recorded per day at most (0: no recording at all).
    daily_cap_minutes: int = Field(default=480, ge=0, le=1440)
    # Mean change (0-255) of a 1/4-scale grey block that counts as a change of the screen.
    change_threshold: float = Field(default=2.0, gt=0.0, le=255.0)
    # A moving screen (a scroll, a typist, a video: each look differs from the one before) is kept
    # once it settles, or after moving this long: the states someone saw, not every step between
    # them. 0 keeps every change (up to `fps_cap`).
    settle_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    # Share of one CPU core the agent may use on average: past it, it keeps fewer frames rather than
    # take more of the employee's machine (the frames it skips are never grabbed into its queue).
    cpu_share: float = Field(default=0.5, gt=0.0, le=8.0)
    # Seconds between two polls of the server's state; no answer within `server_timeout_seconds`
    # stops capture (fail closed).
    poll_seconds: float = Field(default=5.0, gt=0.0, le=300.0)
    server_timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    # Raw frames: never kept by default. True keeps them on this machine only, encrypted in the
    # recording store, crypto-shredded after `store.retention_days.raw` (docs/agent.md).
    keep_raw: bool = False


class StoreRetentionDays(_Strict):
    """Days each class of stored object is kept; then its data key is destroyed (crypto-shred)."""

    raw: int = Field(default=7, ge=0, le=3650)
    redacted: int = Field(default=90, ge=0, le=36500)


class StoreOptions(_Strict):
    """The recording store (`veil.store`, docs/store.md)."""

    retention_days: StoreRetentionDays = StoreRetentionDays()


class AlarmOptions(_Strict):
    """Thresholds of the access alarms (`veil.access.alarms`) over the ledger's access entries."""

    window_minutes: int = Field(default=10, ge=1, le=1440)
    # more than this many distinct recordings read by one account within the window
    max_recordings: int = Field(default=30, ge=1)
    # more than this many distinct owners (people or teams whose recordings they are) in the window
    max_owners: int = Field(default=10, ge=1)
    # an account's first read of an owner it never read before raises "new-data-area"
    new_area: bool = True
    # ... once the account's first this many days of reads (what it normally reads) are learnt
    new_area_learning_days: int = Field(default=7, ge=0, le=365)
    timezone: str = "UTC"  # IANA name, e.g. Asia/Seoul
    working_hours: tuple[int, int] = (7, 20)  # [start, end) hour of the local day
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1
    # `veil serve` evaluates the alarms in the background this often (seconds)
    evaluate_seconds: int = Field(default=15, ge=1, le=3600)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name like Europe/Paris)"
            ) from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int]) -> tuple[int, int]:
        start, end = value
        if not 0 <= start < end <= 24:
            raise ValueError("working_hours must be [start, end) with 0 <= start < end <= 24")
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= d <= 7 for d in value):
            raise ValueError("working_days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return value


class LoginOptions(_Strict):
    """Logging in to `veil serve`: how long a session lasts, when failed logins are throttled."""

    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    max_failures: int = Field(default=5, ge=1, le=1000)  # per account and per client address ...
    failure_window_minutes: int = Field(default=15, ge=1, le=24 * 60)  # ... within this; then 429


class AccessOptions(_Strict):
    """Break-glass windows to raw footage, the access alarms (`veil.access`) and logging in."""

    break_glass_minutes: int = Field(default=60, ge=1)  # a window's length when none is asked for
    break_glass_max_minutes: int = Field(default=240, ge=1, le=7 * 24 * 60)  # longer asks are capped
    request_valid_hours: int = Field(default=24, ge=1)  # an unapproved request lapses after this
    alarms: AlarmOptions = AlarmOptions()
    login: LoginOptions = LoginOptions()


class Policy(_Strict):
    """What the security officer sets. Every field has an embedded default."""

    version: str = "1"
    ocr: OcrOptions = OcrOptions()
    detect: DetectOptions = DetectOptions()
    redact: RedactOptions = RedactOptions()
    video: VideoOptions = VideoOptions()
    ledger: LedgerOptions = LedgerOptions()
    capture: CaptureOptions = CaptureOptions()
    scale: ScaleOptions = ScaleOptions()
    agent: AgentOptions = AgentOptions()
    store: StoreOptions = StoreOptions()
    access: AccessOptions = AccessOptions()


def explain(err: ValidationError, model: type[BaseModel]) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        key = str(first["loc"][-1])
        known = _known_keys(model, first["loc"][:-1])
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(known))}"
        return f"unknown key '{loc}' ({hint})"
    return f"invalid value for '{loc}': {first['msg'].removeprefix('Value error, ')}"


def _known_keys(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    current: type[BaseModel] = model
    for part in path:
        field = current.model_fields.get(str(part))
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        current = ann
    return list(current.model_fields)


def read_policy_file(path: Path) -> dict[str, Any]:
    """The policy file as a mapping, or PolicyError naming what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file unreadable: {path}: {type(exc).__name__}") from exc
    return policy_mapping(text, f"policy file {path}")


def policy_mapping(text: str, name: str = "policy") -> dict[str, Any]:
    """The YAML `text` of a policy as a mapping, or PolicyError naming what is wrong with it."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{name} is not valid YAML{where}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{name} must be a mapping of keys to values")
    return raw


def load_policy(path: Path | None) -> Policy:
    """The embedded default when `path` is None; otherwise the file, validated, or PolicyError.
    The file's `egress:` section belongs to the gateway (`veil.gateway.policy`), which validates
    it here too, so a typo there also stops every run before anything is written."""
    if path is None:
        return Policy()
    return _validated(read_policy_file(path), path, f"policy {path}")


def policy_from_text(text: str) -> Policy:
    """A policy given as YAML text (edited on the server, sent to an agent), validated like a
    file; messages call it "policy" (never a path of this machine)."""
    return _validated(policy_mapping(text), Path("policy"), "policy")


def _validated(raw: dict[str, Any], name: Path, label: str) -> Policy:
    if "egress" in raw:
        from veil.gateway.policy import load_egress

        load_egress(raw.pop("egress"), name)
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(f"{label}: {explain(exc, Policy)}") from None
