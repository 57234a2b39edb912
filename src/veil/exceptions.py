"""One exception tree for Veil; each class carries its exit code and HTTP status.

    VeilError (1, 500)
    ├── InputError (3, 400)          unreadable, empty, corrupt or oversized input
    │   └── InputTooLarge (3, 413)   an upload over the server's size limit
    ├── PolicyError (4, 400)         policy/config missing, unparsable or with an unknown key
    ├── OutputError (8, 500)         output could not be written
    ├── EngineError (9, 500)         an OCR engine or detector failed; per frame it fails closed
    │   └── EngineTimeout (9, 504)
    ├── EgressBlocked (6, 403)       the gateway refused a payload
    ├── EgressFailed (10, 502)       a provider did not answer (timeout, 5xx, unreachable)
    ├── LedgerError (7, 500)         the ledger failed verification or could not be written
    ├── AccessDenied (11, 403)       the role, grant or break-glass window does not allow it
    │   └── NotAuthenticated (11, 401)   no, a wrong, expired or replayed credential or signature
    └── StoreError (12, 503)         the recording store or its catalog is unavailable (retry later)
        └── StoreIntegrityError (12, 500)  an object failed authentication (tampered, truncated,
                                           reordered) or its data key was destroyed

Exit code 5 is not an exception: the run succeeded but some frames had to be masked whole.
Messages never contain a personal value: they name types, keys, files and frame numbers only.
`veil.__main__`/`veil.cli` is the only place that turns these into exit codes.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FRAMES_MASKED = 5


class VeilError(Exception):
    exit_code = 1
    http_status = 500


class InputError(VeilError):
    exit_code = 3
    http_status = 400


class InputTooLarge(InputError):
    http_status = 413


class PolicyError(VeilError):
    exit_code = 4
    http_status = 400


class OutputError(VeilError):
    exit_code = 8


class EngineError(VeilError):
    exit_code = 9


class EngineTimeout(EngineError):
    http_status = 504


class EgressBlocked(VeilError):
    exit_code = 6
    http_status = 403


class EgressFailed(VeilError):
    exit_code = 10
    http_status = 502


class LedgerError(VeilError):
    exit_code = 7


class AccessDenied(VeilError):
    exit_code = 11
    http_status = 403


class NotAuthenticated(AccessDenied):
    http_status = 401


class StoreError(VeilError):
    exit_code = 12
    http_status = 503


class StoreIntegrityError(StoreError):
    http_status = 500


EXIT_CODES: dict[str, int] = {
    "ok": EXIT_OK,
    "internal error": VeilError.exit_code,
    "usage error (bad command-line arguments)": 2,
    "bad input": InputError.exit_code,
    "bad policy or config": PolicyError.exit_code,
    "output produced, but frames had to be masked whole": EXIT_FRAMES_MASKED,
    "egress blocked": EgressBlocked.exit_code,
    "ledger verification failed": LedgerError.exit_code,
    "output could not be written": OutputError.exit_code,
    "egress failed (provider timeout, error or unreachable)": EgressFailed.exit_code,
    "engine failure outside a frame": EngineError.exit_code,
    "access denied (role, grant, break-glass window, revoked or not authenticated)": AccessDenied.exit_code,
    "recording store unavailable or an object failed its integrity check": StoreError.exit_code,
}
