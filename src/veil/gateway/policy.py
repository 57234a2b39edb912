"""Destination policy: who may receive what, on which legal terms, at what rate; and the kill switch.

In the policy YAML, under `egress:`:

    egress:
      kill_switch: false            # true stops all egress
      kill_switch_file: /etc/veil/egress.kill   # default: <VEIL_HOME>/egress.kill
      destinations:
        - name: eu-gemini
          provider: gemini          # local | gemini | openai | fake
          base_url: https://generativelanguage.googleapis.com
          model: gemini-2.5-flash
          api_key_env: VEIL_GEMINI_API_KEY   # the key itself is never in this file
          legal_basis: "GDPR Art. 6(1)(f); SCC 2021/914 module 2"
          country: IE
          recipient: "Google Ireland Ltd."
          data_categories: [sanitized-screen-images, sanitized-screen-text, ui-events]
          retention_days: 0
          no_training: true
          frames_per_hour: 120
          bytes_per_day: 50000000
          timeout: 60
          retries: 1

The model loads even when terms are missing, so that `veil analyze` can say exactly which are
missing; `Destination.missing_terms()` lists them and the gateway blocks the send. A remote
destination receives nothing until every term is there and `no_training` is true.

The kill switch stops all egress at once, from any of: `egress.kill_switch: true`, the environment
variable VEIL_EGRESS_KILL set to anything but "" or "0", or the kill-switch file existing. The file
and the variable let an operator stop egress without editing (or even being able to read) the policy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from veil.exceptions import PolicyError
from veil.options import Policy, load_policy, read_policy_file

KILL_ENV = "VEIL_EGRESS_KILL"
KILL_FILE_NAME = "egress.kill"
LOCAL = "local"
_SECRET_KEYS = ("api_key", "apikey", "key", "token", "secret", "password", "authorization")

ProviderKind = Literal["local", "gemini", "openai", "fake"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")
    provider: ProviderKind
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    model: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")
    legal_basis: str | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    recipient: str | None = None
    data_categories: tuple[str, ...] = ()
    retention_days: int | None = Field(default=None, ge=0)
    no_training: bool | None = None
    frames_per_hour: int | None = Field(default=None, ge=0)
    bytes_per_day: int | None = Field(default=None, ge=0)
    timeout: float = Field(default=60.0, gt=0, le=600)
    retries: int = Field(default=0, ge=0, le=5)
    retry_backoff: float = Field(default=1.0, ge=0, le=60)
    max_keyframes: int = Field(default=8, ge=1, le=64)
    max_output_tokens: int = Field(default=2048, ge=1, le=65536)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if str(key).lower() in _SECRET_KEYS:
                    raise ValueError(
                        f"'{key}': API keys are never read from the policy file; put the key in an "
                        "environment variable and name it in 'api_key_env'"
                    )
        return data

    @property
    def remote(self) -> bool:
        return self.provider != LOCAL

    def missing_terms(self) -> list[str]:
        """Terms a remote destination still lacks before it may receive anything."""
        if not self.remote:
            return []
        missing = [
            name
            for name in ("base_url", "model", "legal_basis", "country", "recipient")
            if not (getattr(self, name) or "").strip()
        ]
        if not self.data_categories:
            missing.append("data_categories")
        for name in ("retention_days", "frames_per_hour", "bytes_per_day"):
            if getattr(self, name) is None:
                missing.append(name)
        if self.no_training is not True:
            missing.append("no_training (must be true)")
        return missing


LOCAL_DESTINATION = Destination(name=LOCAL, provider="local", model="veil-local-steps")


class EgressPolicy(_Strict):
    kill_switch: bool = False
    kill_switch_file: Path | None = None
    destinations: tuple[Destination, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> EgressPolicy:
        names = [d.name for d in self.destinations]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"destination names must be unique: {', '.join(dupes)}")
        if any(d.name == LOCAL and d.provider != LOCAL for d in self.destinations):
            raise ValueError("the destination name 'local' is reserved for the local provider")
        return self

    def destination(self, name: str) -> Destination:
        """The destination called `name` ('local' always exists); PolicyError otherwise."""
        for dest in self.destinations:
            if dest.name == name:
                return dest
        if name == LOCAL:
            return LOCAL_DESTINATION
        by_kind = [d for d in self.destinations if d.provider == name]
        if len(by_kind) == 1:
            return by_kind[0]
        known = ", ".join([LOCAL, *(d.name for d in self.destinations if d.name != LOCAL)])
        raise PolicyError(f"no egress destination named '{name}' in the policy (known: {known})")

    def kill_file(self, home: Path | None = None) -> Path:
        if self.kill_switch_file is not None:
            return self.kill_switch_file
        if home is None:
            from veil.store.home import veil_home

            home = veil_home()
        return home / KILL_FILE_NAME

    def kill_reason(self, home: Path | None = None) -> str | None:
        """Why egress is stopped right now, or None when it is not."""
        if self.kill_switch:
            return "the policy sets egress.kill_switch"
        if os.environ.get(KILL_ENV, "") not in ("", "0"):
            return f"the environment variable {KILL_ENV} is set"
        path = self.kill_file(home)
        if path.exists():
            return f"the kill-switch file {path} exists"
        return None


def load_policies(path: Path | None) -> tuple[Policy, EgressPolicy]:
    """The redaction policy and the egress policy from one YAML file (embedded defaults when None).
    PolicyError names the key and the fix, as `veil.options.load_policy` does."""
    if path is None:
        return Policy(), EgressPolicy()
    policy = load_policy(path)
    return policy, load_egress(read_policy_file(path).get("egress"), path)


def load_egress(raw: object, path: Path) -> EgressPolicy:
    """The `egress:` section of a policy file, validated."""
    try:
        return EgressPolicy.model_validate(raw or {})
    except ValidationError as exc:
        raise PolicyError(f"policy {path}: egress: {_explain_egress(exc)}") from exc


def _explain_egress(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        model = Destination if loc.startswith("destinations") else EgressPolicy
        known = ", ".join(model.model_fields)
        return f"unknown key '{loc}' (known keys: {known})"
    # Pydantic's message may quote the input; for a secret-key error ours names the key only.
    message = str(first.get("ctx", {}).get("error", first["msg"]))
    return f"invalid value for '{loc}': {message}"
