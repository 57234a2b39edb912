"""`veil analyze INPUT --provider NAME [--policy P.yaml] [--dry-run]`.

Redacts and verifies the recording with the core pipeline, picks keyframes, builds a payload from
the sanitized frames, the sanitized text layer and the UI event trace (see `veil.gateway.build`),
clears it, and sends it through the gateway; or, with --dry-run, writes the exact payload to
`<name>_redacted.payload/` instead. The answer (a step-by-step description of what the person did)
is stored in `<name>_redacted.analysis.json` next to the redacted output.

A remote destination whose policy lacks a legal term, or a kill switch that is on, stops the run
before anything is redacted or sent. The lead mounts the command with
`app.command("analyze")(veil.gateway.analyze.analyze_command)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from veil.cli_common import JsonOpt, QuietOpt, VerboseOpt, setup_logging
from veil.exceptions import EXIT_FRAMES_MASKED, EXIT_OK, OutputError
from veil.gateway.base import ProviderAnswer
from veil.gateway.build import build_payload, pick_keyframes, read_frames
from veil.gateway.policy import Destination, load_policies
from veil.gateway.services import (
    Services,
    default_analyzer,
    default_verifier,
    open_gateway,
    preflight,
)
from veil.report import write_json_atomic
from veil.verify.payload import SanitizedPayload, TextPart

if TYPE_CHECKING:
    from veil.progress import ProgressFactory

__all__ = ["AnalyzeResult", "Services", "analyze", "analyze_command", "write_payload"]


@dataclass(frozen=True)
class AnalyzeResult:
    output: Path
    destination: str
    payload_sha256: str
    payload_size: int
    keyframes: tuple[int, ...]
    dropped_keyframes: tuple[int, ...] = ()
    frames_masked: int = 0
    answer: ProviderAnswer | None = None
    answer_path: Path | None = None
    payload_path: Path | None = None
    missing_terms: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "destination": self.destination,
            "payload_sha256": self.payload_sha256,
            "payload_size": self.payload_size,
            "keyframes": list(self.keyframes),
            "dropped_keyframes": list(self.dropped_keyframes),
            "frames_masked_whole": self.frames_masked,
            "analysis": str(self.answer_path) if self.answer_path else None,
            "payload": str(self.payload_path) if self.payload_path else None,
            "replayed": bool(self.answer and self.answer.replayed),
            "missing_terms": list(self.missing_terms),
        }


def analyze(
    input: Path,
    provider: str = "local",
    policy_path: Path | None = None,
    dry_run: bool = False,
    out_dir: Path | None = None,
    *,
    services: Services | None = None,
    progress: ProgressFactory | None = None,
) -> AnalyzeResult:
    """Run the whole `veil analyze` flow (see the module docstring)."""
    from veil.api import RunOptions, companion_paths, redact_file
    from veil.capture.open import default_output_path
    from veil.mining.textlayer import read_text_layer

    policy, egress = load_policies(policy_path)
    services = (services or Services()).with_policy(policy)
    dest = egress.destination(provider)
    missing = preflight(egress, dest, dry_run)
    output = default_output_path(input)
    if out_dir is not None:
        _make_dir(out_dir)
        output = out_dir / output.name
    report = redact_file(input, RunOptions(policy=policy, output=output), progress=progress)
    output = Path(report.output)
    frames = list(read_text_layer(companion_paths(output)[1]))
    masked = [r.index for r in report.frames if r.masked_whole]
    cap = min(dest.max_keyframes, dest.frames_per_hour or dest.max_keyframes)
    wanted = pick_keyframes(frames, cap, skip=masked)
    analyzer = services.analyzer or default_analyzer(policy)
    verifier = services.verifier or default_verifier(policy, analyzer)
    images = read_frames(output, policy, wanted)
    payload, keyframes, dropped = build_payload(frames, images, analyzer, verifier)
    result = AnalyzeResult(
        output=output,
        destination=dest.name,
        payload_sha256=payload.sha256,
        payload_size=payload.size,
        keyframes=tuple(keyframes),
        dropped_keyframes=tuple(dropped),
        frames_masked=len(masked),
        missing_terms=tuple(missing),
    )
    if dry_run:
        folder = write_payload(payload, dest, output.with_name(output.stem + ".payload"))
        return _replace(result, payload_path=folder)
    gateway_services = replace(services, verifier=verifier)
    with open_gateway(egress, dest, analyzer, gateway_services, policy.version) as gateway:
        answer = gateway.send(payload, dest.name)
    path = output.with_name(output.stem + ".analysis.json")
    write_json_atomic(path, {**result.summary(), "answer": answer.to_json()})
    return _replace(result, answer=answer, answer_path=path)


def write_payload(payload: SanitizedPayload, dest: Destination, folder: Path) -> Path:
    """The dry run: `body.json` holds the exact canonical body (its SHA-256 is the payload's hash),
    `payload.json` every part (text inline, images by file name), and each image as a PNG file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "body.json").write_bytes(payload.body)
        parts: list[dict[str, object]] = []
        for part in payload.parts:
            if isinstance(part, TextPart):
                parts.append({"kind": "text", "role": part.role, "text": part.text})
            else:
                name = f"{part.role}.png"
                (folder / name).write_bytes(part.png)
                parts.append({"kind": "image", "role": part.role, "file": name, "size": len(part.png)})
    except OSError as exc:
        raise OutputError(f"cannot write the payload to {folder}: {exc.strerror}") from exc
    doc = {
        "destination": dest.name,
        "provider": dest.provider,
        "model": dest.model,
        "sha256": payload.sha256,
        "size": payload.size,
        "missing_terms": dest.missing_terms(),
        "parts": parts,
    }
    write_json_atomic(folder / "payload.json", doc)
    return folder


def _make_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror}") from exc


def _replace(result: AnalyzeResult, **changes: object) -> AnalyzeResult:
    return replace(result, **changes)  # type: ignore[arg-type]


def analyze_command(
    input: Annotated[Path, typer.Argument(help="Video, image or folder of images to analyse.")],
    provider: Annotated[
        str, typer.Option("--provider", help="Destination name from the policy, or 'local' (no network).")
    ] = "local",
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy YAML (redaction and egress).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the exact payload to disk instead of sending it.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("-o", "--output", "--out-dir", help="Folder for outputs; default: next to the input."),
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> int:
    """Redact, verify, and describe step by step what the person did, through the egress gateway."""
    setup_logging(verbose, quiet)
    result = analyze(input, provider, policy, dry_run, out_dir)
    summary = result.summary()
    if as_json or (result.answer is None and not quiet):
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    elif result.answer is not None and not quiet:
        typer.echo(result.answer.text)
        typer.echo(f"analysis: {result.answer_path}")
    return EXIT_FRAMES_MASKED if result.frames_masked else EXIT_OK
