"""``care-gateway validate PATH...``: what each file is (FHIR JSON or XML,
resource or Bundle; SOAP envelope), whether it follows our contracts, and a
report for people (text, HTML), FHIR tools (OperationOutcome JSON) or CI
systems (JUnit XML). Exit status 0: all valid; 1: something invalid;
2: a file, a trust file or a package could not be read.

``--ig PACKAGE.tgz`` (repeatable) adds any FHIR package to what FHIR
messages are validated against, so a partner's messages can be checked
against the guide they follow; ``--compare OUTCOME.json`` lines our findings
on one message up with another validator's OperationOutcome, by element
path (exit status 0 when both agree)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the validators load lxml, signxml and the FHIR package: only when validating
    from gateway.conformance.soap import Trust
    from gateway.conformance.verdict import Verdict

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
REPORT_FORMATS = ("text", "json", "html", "junit")  # = gateway.conformance.reports.RENDERERS

DESCRIPTION = """\
Validate partner messages against the gateway's contracts. Each file is
recognised by its content: a FHIR R4 resource or Bundle (JSON or XML) is
checked against its meta.profile (or --profile) and R4 core; a SOAP 1.1
envelope against the XSD that declares its payload (found under soap/), its
WS-Security header (structure, Timestamp, signature over Body and Timestamp
with the holder-of-key) and its SAML assertion (issuer, STS signature,
validity, holder-of-key certificate)."""

EPILOG = """\
exit status: 0 every message is valid, 1 at least one is not, 2 a file could
not be read.
examples:
  care-gateway validate inclusion.json consent.xml
  care-gateway validate --report junit --out validation.xml messages/*
  care-gateway validate --at 2026-06-15T12:00:00Z request.xml
  care-gateway validate --trust-sts acc-sts.pem --ca acc-ca.pem request.xml
  care-gateway validate --ig partner.guide-1.0.0.tgz --profile https://partner.be/fhir/StructureDefinition/p patient.json
  care-gateway validate --compare hl7-validator-outcome.json patient.json

with --compare: exit status 0 when both validators agree (the same verdict, no
element with an error on one side only), 1 when they differ."""


def instant(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-06-15T12:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def add_validate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``validate`` to the ``care-gateway`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate", help="validate partner messages (FHIR, SOAP) against our contracts",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files to validate")
    parser.add_argument("--profile", metavar="URL",
                        help="validate FHIR resources against this StructureDefinition instead of their meta.profile "
                        "(SOAP envelopes ignore it)")
    parser.add_argument("--report", choices=REPORT_FORMATS, default="text",
                        help="report format: text (default), json (an OperationOutcome; a Bundle of them for several "
                        "files), html (for people), junit (for CI systems)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--at", type=instant, metavar="INSTANT",
                        help="judge SOAP timestamps, assertions and certificates at this instant "
                        "(ISO 8601, e.g. 2026-06-15T12:00:00Z; default: now)")
    parser.add_argument("--trust-sts", type=Path, action="append", default=[], metavar="PEM",
                        help="trust the STS certificate(s) in PEM instead of the sandbox STS (repeatable)")
    parser.add_argument("--ca", type=Path, metavar="PEM",
                        help="CA certificate that issues holder-of-key certificates, instead of the sandbox CA")
    parser.add_argument("--ig", type=Path, action="append", default=[], metavar="PACKAGE",
                        help="also validate FHIR messages against this FHIR package (.tgz: an implementation guide's "
                        "profiles, extensions, value sets; snapshots are generated for differential-only ones; "
                        "repeatable, dependencies first)")
    parser.add_argument("--extension-domain", action="append", default=[], metavar="URL",
                        help="accept extensions under this URL prefix without a definition (an information instead "
                        "of an error; repeatable)")
    parser.add_argument("--compare", type=Path, metavar="OUTCOME",
                        help="compare the findings on one FHIR message with this OperationOutcome of another validator "
                        "(the HL7 validator's -output), by element path; --report text or json")
    parser.set_defaults(func=run_validate)
    return parser


def _trust(args: argparse.Namespace) -> "Trust":
    from gateway.config import Settings
    from gateway.conformance.soap import Trust

    return Trust.sandbox(Settings.from_env().sandbox_seed).replacing(args.trust_sts, args.ca)


def _read(path: Path, limit: int) -> bytes | str:
    """The file's bytes (one past ``limit`` at most: the validators refuse
    what is larger), or why it cannot be read."""
    try:
        with path.open("rb") as file:
            return file.read(limit + 1)
    except OSError as exc:
        return exc.strerror or str(exc)


def _fhir(args: argparse.Namespace) -> Any:
    """A FHIR validator knowing the --ig packages (None: the shared one), or why none can be made."""
    from gateway.conformance.fhir.validator import FhirValidator, PackageError

    if not args.ig and not args.extension_domain:
        return None
    try:
        validator, notes = FhirValidator.with_packages(args.ig, extension_domains=tuple(args.extension_domain))
    except (PackageError, OSError) as exc:
        return str(exc)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    return validator


def run_validate(args: argparse.Namespace) -> int:
    from gateway.conformance.reports import render
    from gateway.conformance.soap import RunReplayGuard, TrustError
    from gateway.conformance.validate import MAX_MESSAGE_BYTES, MessageValidator, unreadable

    if args.compare is not None and len(args.paths) != 1:
        print("error: --compare compares the findings on one message: give one PATH", file=sys.stderr)
        return EXIT_UNREADABLE
    fhir = _fhir(args)
    if isinstance(fhir, str):
        print(f"error: {fhir}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        validator = MessageValidator.with_trust(_trust(args), fhir=fhir)
    except TrustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    at = args.at or datetime.now(timezone.utc)
    replay = RunReplayGuard()  # a signature seen twice in one run is a replay; nothing is kept after it
    verdicts: list["Verdict"] = []
    for path in args.paths:
        data = _read(path, MAX_MESSAGE_BYTES)
        if isinstance(data, str):
            print(f"error: cannot read {path}: {data}", file=sys.stderr)
            verdicts.append(unreadable(str(path), data))
        else:
            verdicts.append(validator.validate(data, source=str(path), at=at, profile=args.profile, replay=replay))
    if args.compare is not None:
        return _compare(args, verdicts[0])
    report = render(args.report, verdicts)
    if not _write(args, report):
        return EXIT_UNREADABLE
    if args.out is not None:
        valid = sum(1 for v in verdicts if v.valid)
        print(f"{len(verdicts)} message(s): {valid} valid, {len(verdicts) - valid} invalid; "
              f"{args.report} report written to {args.out}", file=sys.stderr)
    if any(v.kind == "unreadable" for v in verdicts):
        return EXIT_UNREADABLE
    return EXIT_VALID if all(v.valid for v in verdicts) else EXIT_INVALID


def _write(args: argparse.Namespace, report: str) -> bool:
    """The report on standard output, or in --out; False (said on stderr) when it cannot be written."""
    if args.out is None:
        sys.stdout.write(report)
        return True
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _compare(args: argparse.Namespace, verdict: "Verdict") -> int:
    """--compare: our findings beside another validator's OperationOutcome, by element path."""
    import json

    from gateway.conformance.fhir.compare import OutcomeError, compare

    if verdict.kind == "unreadable":
        print(f"error: cannot read {verdict.source}", file=sys.stderr)
        return EXIT_UNREADABLE
    if not verdict.kind.startswith("fhir"):
        print(f"error: --compare compares FHIR messages; {verdict.source} is a {verdict.label}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        other = json.loads(args.compare.read_bytes())
        comparison = compare([f.issue for f in verdict.findings], other, source=verdict.source, other=str(args.compare))
    except OSError as exc:
        print(f"error: cannot read {args.compare}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except (ValueError, OutcomeError) as exc:
        print(f"error: {args.compare} is not another validator's OperationOutcome: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.report not in ("text", "json"):
        print("error: --compare reports as text or json", file=sys.stderr)
        return EXIT_UNREADABLE
    report = comparison.text() if args.report == "text" else json.dumps(comparison.json(), indent=2, ensure_ascii=False) + "\n"
    if not _write(args, report):
        return EXIT_UNREADABLE
    return EXIT_VALID if comparison.agree else EXIT_INVALID
