"""What every command that sends through the gateway needs, wired one way: the default analyzer
and verifier, the preflight that stops a run before any work when nothing could be sent, and a
gateway with the ledger and send records a remote destination requires (`open_gateway`).
Used by `veil analyze` and `veil mine --describe`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from veil.exceptions import EgressBlocked
from veil.gateway.gateway import Gateway
from veil.gateway.policy import Destination, EgressPolicy

if TYPE_CHECKING:
    from veil.audit.witness import WitnessEndpoint
    from veil.gateway.base import Provider
    from veil.options import Policy
    from veil.verify.base import Verifier
    from veil.verify.payload import TextAnalyzer


@dataclass(frozen=True)
class Services:
    """What a sending command builds by default, injectable for tests and embedding."""

    analyzer: TextAnalyzer | None = None
    verifier: Verifier | None = None
    ledger_url: str | None = None
    key_dir: Path | None = None
    witnesses: tuple[WitnessEndpoint, ...] = ()
    signer: Path | None = None  # the external signer's socket (None: VEIL_LEDGER_SIGNER, else key_dir)

    def with_policy(self, policy: Policy) -> Services:
        """These services with the policy's ledger settings (url, key_dir, signer, witnesses)
        wherever they were left unset."""
        from veil.audit.cosign import WitnessVerifier
        from veil.audit.signer import parse_signer_url
        from veil.audit.witness import WitnessEndpoint as Endpoint

        ledger = policy.ledger
        return replace(
            self,
            ledger_url=self.ledger_url or ledger.url,
            key_dir=self.key_dir or ledger.key_dir,
            witnesses=self.witnesses
            or tuple(Endpoint(w.url, WitnessVerifier.from_vkey(w.vkey)) for w in ledger.witnesses),
            signer=self.signer or (parse_signer_url(ledger.signer) if ledger.signer else None),
        )


def preflight(egress: EgressPolicy, dest: Destination, dry_run: bool = False) -> list[str]:
    """Stop before any work when a send could not happen; a dry run only reports missing terms."""
    missing = dest.missing_terms()
    if dry_run or not dest.remote:
        return missing
    reason = egress.kill_reason()
    if reason is not None:
        raise EgressBlocked(f"egress is stopped by the kill switch: {reason}")
    if missing:
        raise EgressBlocked(
            f"destination '{dest.name}' may not receive anything: its policy lacks {', '.join(missing)}"
        )
    return missing


@contextmanager
def open_gateway(
    egress: EgressPolicy,
    dest: Destination,
    analyzer: TextAnalyzer,
    services: Services,
    policy_version: str,
    providers: Mapping[str, Provider] | None = None,
) -> Iterator[Gateway]:
    """A gateway for sends to `dest`, re-scanning images with `services.verifier` (without one it
    refuses any payload with images); for a remote one, with the ledger and send records open
    (from `services`, else the defaults) until the block ends."""
    verifier = services.verifier
    if not dest.remote:
        # Nothing leaves: the gateway needs no ledger (it records nothing for a local send).
        gateway = Gateway(
            egress,
            None,
            None,
            analyzer,
            providers=providers,
            policy_version=policy_version,
            verifier=verifier,
        )
        try:
            yield gateway
        finally:
            gateway.close()
        return
    from veil.audit.store import Ledger, default_key_dir, default_ledger_url
    from veil.gateway.state import SendStore

    url = services.ledger_url or default_ledger_url()
    key_dir = services.key_dir or default_key_dir()
    with Ledger.open(url, key_dir, witnesses=services.witnesses, signer=services.signer) as ledger:
        store = SendStore.open(url)
        gateway = Gateway(
            egress,
            ledger,
            store,
            analyzer,
            providers=providers,
            policy_version=policy_version,
            verifier=verifier,
        )
        try:
            yield gateway
        finally:
            gateway.close()
            store.close()


def default_analyzer(policy: Policy) -> TextAnalyzer:
    from veil.detect.registry import default_analyzer as registry_analyzer

    return registry_analyzer(policy.detect)


def default_verifier(policy: Policy, analyzer: TextAnalyzer) -> Verifier:
    from veil.detect.analyzer import Analyzer
    from veil.ocr.registry import make_verifier_engine
    from veil.store.home import load_or_create_key
    from veil.verify.rescan import RescanVerifier

    assert isinstance(analyzer, Analyzer)
    return RescanVerifier(make_verifier_engine(policy.ocr), analyzer, load_or_create_key("finding-hmac"))
