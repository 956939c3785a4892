"""``care-gateway conformance run SUITE... --target URL`` and
``care-gateway conformance list``: run test suites against any endpoint that
implements our contracts, the gateway itself or a partner's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2

RUN_DESCRIPTION = """\
Run conformance suites (YAML, conformance/suites/README.md) against a target
that implements the care-gateway contracts: FHIR under /fhir, SOAP services
under /soap. Tokens are obtained as the sandbox personas from the identity
provider and STS at --idp (default: the target), the way a vendor gets them.
Progress goes to stderr, one line per step; reports to --report-dir."""

RUN_EPILOG = """\
exit status: 0 every suite passed, 1 a step failed, 2 a suite file is unusable.
examples:
  care-gateway conformance run conformance/suites/* --target http://127.0.0.1:8000
  care-gateway conformance run security-negatives --target https://partner.example --idp http://127.0.0.1:8000 --report-dir out/"""


def add_conformance_parser(subparsers: Any) -> None:
    """``conformance run`` and ``conformance list`` under ``care-gateway``."""
    conformance = subparsers.add_parser("conformance", help="run conformance test suites against an endpoint",
                                        description="Conformance test suites (conformance/suites/): list them, run them.")
    actions = conformance.add_subparsers(dest="conformance_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run suites against a target", description=RUN_DESCRIPTION, epilog=RUN_EPILOG,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("suites", nargs="+", metavar="SUITE", help="suite files, folders, or ids of shipped suites")
    run.add_argument("--target", required=True, metavar="URL", help="base URL of the endpoint under test, e.g. http://127.0.0.1:8000")
    run.add_argument("--idp", metavar="URL", help="base URL of the (simulated) eHealth IdP and STS (default: the target)")
    run.add_argument("--report-dir", type=Path, metavar="DIR", help="write testreport.json, report.html and junit.xml here")
    run.add_argument("--run-id", help="name of this run (picks the sandbox patients; default: time-based)")
    run.add_argument("--sandbox-seed", type=int, help="seed of the sandbox personas and keys (default: $CARE_GATEWAY_SANDBOX_SEED or 2026)")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(func=cmd_run)
    listing = actions.add_parser("list", help="list the shipped suites", description="List the suites in conformance/suites (or DIR).")
    listing.add_argument("directory", nargs="?", type=Path, help="a folder of suites (default: the shipped ones)")
    listing.set_defaults(func=cmd_list)


def cmd_run(args: argparse.Namespace) -> int:
    from gateway.conformance.suites.loader import SuiteError, load, resolve
    from gateway.conformance.suites.progress import Progress
    from gateway.conformance.suites.report import write_reports
    from gateway.conformance.suites.runner import RunOptions, run

    try:
        suites = [load(path) for path in resolve(args.suites)]
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not suites:
        print("error: no suite to run", file=sys.stderr)
        return EXIT_UNUSABLE
    seed = args.sandbox_seed
    if seed is None:
        from gateway.config import Settings

        seed = Settings.from_env().sandbox_seed
    options = RunOptions(target=args.target, idp=args.idp, sandbox_seed=seed)
    if args.run_id:
        options.run_id = args.run_id
    import logging

    for noisy in ("httpx", "zeep"):  # their request logs would drown the progress lines
        logging.getLogger(noisy).setLevel(logging.WARNING)
    result = run(suites, options, Progress(quiet=args.quiet))
    if args.report_dir:
        for path in write_reports(result, args.report_dir):
            print(path)
    return EXIT_PASSED if result.passed else EXIT_FAILED


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.conformance.suites.loader import SuiteError, load, suites_dir

    directory = args.directory or suites_dir()
    status = EXIT_PASSED
    for path in sorted(directory.glob("*.yaml")):
        try:
            suite = load(path)
        except SuiteError as error:
            print(f"{path.name}: unusable: {error}", file=sys.stderr)
            status = EXIT_UNUSABLE
            continue
        print(f"{suite.id:28} {len(suite.all_steps):3} steps  {suite.title}  [{', '.join(suite.rules)}]")
    return status
