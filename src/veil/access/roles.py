"""The four roles and what each may do. Shared by the CLI, the store and the web server.

employee          their own recordings' summaries, their portal (pause, object, export, delete)
analyst           redacted outputs and task mining; never raw footage, never other people's portal
privacy_officer   the egress log, the ledger, alarms, policy, deployment gate; approves break-glass;
                  hands recordings made elsewhere to the server for redaction (batch jobs)
admin             users and devices; approves break-glass; never reads raw footage alone
service           the server's own jobs (task mining reads the redacted text layers); cannot log in

The server's mining runs read as the service account `MINING_SERVICE`, naming the person who
started the run in every read's ledger entry (`on_behalf_of`).

Raw footage is no role's permission: it is reachable only through a break-glass window (a reason,
a second approver of another role, a time limit), see `veil.access`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    EMPLOYEE = "employee"
    ANALYST = "analyst"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"
    SERVICE = "service"


MINING_SERVICE = "veil-mining"  # the service account the server's task mining reads as


class Permission(StrEnum):
    OWN_SUMMARIES = "own_summaries"  # my recordings: when, counts removed by type, what left, deletion date
    OWN_PORTAL_ACTIONS = "own_portal_actions"  # pause my recording, object, request export/deletion
    REDACTED_OUTPUTS = "redacted_outputs"  # redacted frames/videos and text layers of everyone
    MINING = "mining"  # the task-mining report
    EGRESS_LOG = "egress_log"  # egress entries, inclusion proofs, ledger verification
    POLICY_EDIT = "policy_edit"
    DEPLOYMENT_GATE = "deployment_gate"  # notice, consultation, purpose, impact assessment
    ALARMS = "alarms"
    USERS_ADMIN = "users_admin"  # add/revoke users, register devices
    BREAK_GLASS_REQUEST = "break_glass_request"  # ask for a raw-footage window (with a reason)
    BREAK_GLASS_APPROVE = "break_glass_approve"  # approve someone else's request (another role)
    STORE_DELETE = "store_delete"  # crypto-shred one stored object now (`veil store delete`)
    # Upload a recording made elsewhere (raw footage) for the server to redact, and follow the jobs:
    # the person accountable for what enters the system, never one who reads the outputs.
    BATCH_REDACT = "batch_redact"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.EMPLOYEE: frozenset({Permission.OWN_SUMMARIES, Permission.OWN_PORTAL_ACTIONS}),
    Role.ANALYST: frozenset(
        {
            Permission.OWN_SUMMARIES,
            Permission.OWN_PORTAL_ACTIONS,
            Permission.REDACTED_OUTPUTS,
            Permission.MINING,
            Permission.BREAK_GLASS_REQUEST,
        }
    ),
    Role.PRIVACY_OFFICER: frozenset(
        {
            Permission.OWN_SUMMARIES,
            Permission.OWN_PORTAL_ACTIONS,
            Permission.EGRESS_LOG,
            Permission.POLICY_EDIT,
            Permission.DEPLOYMENT_GATE,
            Permission.ALARMS,
            Permission.BREAK_GLASS_REQUEST,
            Permission.BREAK_GLASS_APPROVE,
            Permission.STORE_DELETE,
            Permission.BATCH_REDACT,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.OWN_SUMMARIES,
            Permission.OWN_PORTAL_ACTIONS,
            Permission.USERS_ADMIN,
            Permission.ALARMS,
            Permission.BREAK_GLASS_APPROVE,
        }
    ),
    Role.SERVICE: frozenset({Permission.REDACTED_OUTPUTS}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
