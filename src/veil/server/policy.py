"""Editing the policy from the web: validated like `veil policy show`, versioned, logged.

A policy that does not validate is refused with the validator's message (naming the key and the
fix); an accepted one must carry a new `version`, is stored in the catalog and appended to the
ledger as a PolicyChangeEvent. Agents learn the version from their state endpoint.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from veil.audit.events import PolicyChangeEvent
from veil.exceptions import InputError, PolicyError
from veil.options import Policy, policy_from_text
from veil.policy_cli import template_text
from veil.server.context import Context
from veil.server.db import PolicyRow
from veil.server.web import DEFAULT_POLICY_VERSION

MAX_POLICY_BYTES = 256 * 1024


def validate(text: str) -> Policy:
    """The policy in `text`, or PolicyError saying what is wrong."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyError("policy is larger than 256 KiB")
    return policy_from_text(text)


def current(ctx: Context) -> tuple[str, str]:
    """(version, YAML text) of the policy in force; the commented template before any change."""
    with ctx.session() as s:
        row = s.scalars(select(PolicyRow).order_by(PolicyRow.id.desc()).limit(1)).first()
        if row is not None:
            return row.version, row.text
    return DEFAULT_POLICY_VERSION, template_text()


def text_of(ctx: Context, version: str) -> str:
    """The YAML text of the stored policy `version` (the template for the default before any
    change); InputError when no such version was ever in force."""
    with ctx.session() as s:
        text = s.scalar(select(PolicyRow.text).where(PolicyRow.version == version))
    if text is not None:
        return text
    current_version, current_text = current(ctx)
    if version == current_version:
        return current_text
    raise InputError("no policy of that version was ever in force on this server")


def versions(ctx: Context) -> list[str]:
    """Every policy version put in force here, newest first (the default alone before any change)."""
    with ctx.session() as s:
        found = list(s.scalars(select(PolicyRow.version).order_by(PolicyRow.id.desc())))
    return found or [DEFAULT_POLICY_VERSION]


def change(ctx: Context, text: str, by: str) -> PolicyChangeEvent:
    """Validate and put `text` in force; PolicyError when invalid or its version is not new."""
    policy = validate(text)
    old_version, _ = current(ctx)
    with ctx.session() as s:
        used = s.scalar(select(PolicyRow.id).where(PolicyRow.version == policy.version))
    if used is not None or policy.version == old_version:
        raise PolicyError(f"policy version '{policy.version}' was already used: set a new 'version'")
    digest = hashlib.sha256(text.encode()).hexdigest()
    event = PolicyChangeEvent(old_version, policy.version, digest, by)
    with ctx.session() as s:
        s.add(
            PolicyRow(
                version=policy.version, text=text, sha256=digest, changed_by=by, changed_at=datetime.now(UTC)
            )
        )
        ctx.append(event)
    return event
