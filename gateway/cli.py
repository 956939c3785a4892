"""The ``care-gateway`` command line (also ``python -m gateway``).

    care-gateway serve [--workers N]   run the gateway (SQLite + sandbox data by default)
    care-gateway db upgrade            create or upgrade the database schema
    care-gateway sandbox serve         run the simulated eHealth platform alone
    care-gateway sandbox personas      list the ready-made sandbox personas
    care-gateway sandbox mutate ...    inject a national-register mutation (death, NISS change)
    care-gateway register sync         apply the register's mutation feed to inclusions
    care-gateway audit verify          check the audit trail's hash chain
    care-gateway audit seal            seal the audit records not yet in the chain
    care-gateway purge [--dry-run]     delete what is past its retention period
    care-gateway backup --out FILE     a consistent backup while the gateway serves (DS-7)
    care-gateway restore FILE          restore into an empty database, audit chain verified
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

import gateway
from gateway.config import Settings

log = logging.getLogger("gateway.cli")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_database(getattr(args, "database", None))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return value


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", metavar="URL",
        help="SQLAlchemy database URL (default: $CARE_GATEWAY_DATABASE_URL, else sqlite:///var/care-gateway.sqlite3); "
        "postgresql://user:pass@host/db is accepted",
    )


def _prepare_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _platform_settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The simulated platform's settings: the embedded one's when the gateway
    hosts it (same seed, its own database), else ``CARE_GATEWAY_SANDBOX_*``."""
    from gateway.ehealth.platform import PlatformSettings

    platform = PlatformSettings.from_env()
    settings = Settings.from_env()
    if "CARE_GATEWAY_SANDBOX_DATABASE_URL" not in __import__("os").environ:
        platform = replace(platform, database_url=settings.sandbox_database_url)
    if getattr(args, "sandbox_database", None):
        platform = replace(platform, database_url=args.sandbox_database)
    return platform


def _gateway(args: argparse.Namespace, *, upgrade: bool = True):  # type: ignore[no-untyped-def]
    from gateway.schema import upgrade as upgrade_schema
    from gateway.wiring import build_gateway

    settings = _settings(args)
    if getattr(args, "public_url", None):
        settings = replace(settings, public_url=args.public_url.rstrip("/"))
    _prepare_sqlite_dir(settings.database_url)
    if upgrade:
        upgrade_schema(settings.database_url)
    return build_gateway(settings)


# ---------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from gateway.app import create_app

    if "CARE_GATEWAY_PUBLIC_URL" not in os.environ:
        args.public_url = args.public_url or f"http://{args.host}:{args.port}"
    workers = args.workers or os.cpu_count() or 1
    gw = _gateway(args)  # the schema upgraded and the settings checked once, before any worker starts
    where = "the embedded simulated eHealth platform" if gw.platform is not None else f"the eHealth platform at {gw.settings.platform}"
    log.info("serving on http://%s:%d with %d worker process(es) (database %s), trusting %s", args.host, args.port, workers,
             gw.db.engine.url.render_as_string(hide_password=True), where)
    if workers == 1:
        uvicorn.run(create_app(gw), host=args.host, port=args.port, log_level=args.log_level.lower())
        return 0
    # Several processes share the database (the gateway keeps no state
    # outside it); each builds its gateway from the same settings.
    os.environ["CARE_GATEWAY_DATABASE_URL"] = gw.settings.database_url
    os.environ["CARE_GATEWAY_PUBLIC_URL"] = gw.settings.public_url
    gw.db.dispose()
    if gw.platform is not None:
        gw.platform.db.dispose()
    del gw
    from gateway.serving import WorkerSpec, balanced_by_kernel, serve_workers

    if balanced_by_kernel() and args.port != 0:  # each worker its own socket: connections spread over them
        return serve_workers(WorkerSpec("gateway.app:create_app", args.host, args.port, args.log_level), workers)
    uvicorn.run("gateway.app:create_app", factory=True, workers=workers, host=args.host, port=args.port,
                log_level=args.log_level.lower())
    return 0


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.ehealth.platform import build_platform, create_platform_app

    settings = _platform_settings(args)
    settings = replace(settings, public_url=(args.public_url or f"http://{args.host}:{args.port}").rstrip("/"))
    platform = build_platform(settings)
    log.info("simulated eHealth platform on http://%s:%d%s (database %s, seed %d, issuer base %s)", args.host, args.port,
             "/ehealth", platform.db.engine.url.render_as_string(hide_password=True), settings.seed, settings.public_url)
    uvicorn.run(create_platform_app(platform), host=args.host, port=args.port, log_level=args.log_level.lower())
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from gateway.schema import current, upgrade

    settings = _settings(args)
    _prepare_sqlite_dir(settings.database_url)
    before = current(settings.database_url)
    upgrade(settings.database_url, args.revision)
    after = current(settings.database_url)
    print(f"database schema: {before or 'empty'} -> {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from gateway.schema import current

    print(current(_settings(args).database_url) or "empty (run: care-gateway db upgrade)")
    return 0


def cmd_sandbox_trust(args: argparse.Namespace) -> int:
    from gateway.ehealth.platform import build_platform, write_trust_files

    settings = replace(_platform_settings(args), public_url=args.platform_url.rstrip("/").removesuffix("/ehealth"))
    platform = build_platform(settings)
    try:
        files = write_trust_files(platform, args.out, args.organisation)
    except ValueError as exc:
        print(f"error: {exc}; see: care-gateway sandbox personas", file=sys.stderr)
        return 2
    for path in files:
        print(path)
    print(f"then: CARE_GATEWAY_SETTINGS={files[-1]} care-gateway serve")
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    from gateway.ehealth.sandbox.personas import personas_main

    return personas_main((["--json"] if args.json else []) + (["--seed", str(args.seed)] if args.seed is not None else []))


def cmd_credentials(args: argparse.Namespace) -> int:
    from gateway.ehealth.pki import load_pki, organisation_credential_files, persona_credential_files
    from gateway.ehealth.sandbox.personas import personas
    from gateway.ehealth.sandbox.registries import generate_registries

    settings = _settings(args)
    registries = generate_registries(settings.sandbox_seed)
    if args.persona.startswith("org-") or args.persona.isdigit():
        nihii = args.persona.removeprefix("org-")
        if registries.organisation(nihii) is None:
            print(f"error: no organisation with NIHII {nihii!r}; see: care-gateway sandbox personas", file=sys.stderr)
            return 2
        for path in organisation_credential_files(load_pki(settings.sandbox_seed), nihii, args.out, args.password):
            print(path)
        print(f"keystore password: {args.password}")
        return 0
    from gateway.ehealth.rtw.personas import rtw_personas
    from gateway.ehealth.rtw.sandbox import rtw_sandbox

    cast = {**personas(registries), **rtw_personas(rtw_sandbox(settings.sandbox_seed))}  # return-to-work staff too (RP-S1)
    if args.persona not in cast:
        print(f"error: no persona {args.persona!r}; see: care-gateway sandbox personas", file=sys.stderr)
        return 2
    try:
        files = persona_credential_files(load_pki(settings.sandbox_seed), cast[args.persona], args.out, args.password)
    except KeyError:
        print(f"error: {args.persona} signs in through the IdP and has no certificate", file=sys.stderr)
        return 2
    for path in files:
        print(path)
    print(f"keystore password: {args.password}")
    return 0


def cmd_mutate(args: argparse.Namespace) -> int:
    from gateway.ehealth.platform import build_platform

    platform = build_platform(_platform_settings(args))
    register = platform.register
    try:
        if args.kind == "death":
            mutation = register.inject_death(args.niss, args.date or platform.clock.today())
        else:
            if not args.new_niss:
                print("error: niss-change needs --new-niss", file=sys.stderr)
                return 2
            mutation = register.inject_niss_change(args.niss, args.new_niss, args.date or platform.clock.today())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"register mutation {mutation.seq}: {mutation.kind.value} of {mutation.niss}"
          + (f" -> {mutation.new_niss}" if mutation.new_niss else "") + f" on {mutation.effective}")
    print("apply it to inclusions with: care-gateway register sync")
    return 0


def cmd_register_sync(args: argparse.Namespace) -> int:
    gw = _gateway(args)
    report = gw.lifecycle.sync_register()
    print(f"applied {report.applied} mutation(s) up to #{report.last_seq}: "
          f"{report.inclusions_closed} inclusion(s) closed (IC-R4), {report.inclusions_moved} moved (IC-R5)")
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from gateway.domain import audit

    gw = _gateway(args, upgrade=False)
    with gw.db.transaction() as session:
        report = audit.verify(session)
    print(report.describe())
    return 0 if report.intact else 1


def cmd_audit_seal(args: argparse.Namespace) -> int:
    from gateway.domain import audit

    gw = _gateway(args, upgrade=False)
    total = 0
    while True:
        with gw.db.transaction() as session:
            sealed = audit.seal(session)
        if sealed is None:  # a running gateway's sealer holds the head: it seals them
            print(f"sealed {total} record(s); another sealer is at work and seals the rest")
            return 0
        total += sealed
        if sealed < audit.SEAL_BATCH:
            break
    with gw.db.transaction() as session:
        head = session.get(audit.AuditHead, 1)
        position = head.seq if head is not None else 0
    print(f"sealed {total} record(s); the chain now holds {position}")
    return 0


def cmd_mappings_docs(args: argparse.Namespace) -> int:
    from gateway.mapping.docs import render

    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run care-gateway mappings docs --out {args.out}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    gw = _gateway(args)
    report = gw.lifecycle.purge(dry_run=args.dry_run, today=args.today)
    print(report.describe())
    if gw.return_to_work is not None:  # return-to-work dossiers (RP-R1)
        print(gw.return_to_work.purge(dry_run=args.dry_run, today=args.today).describe())
    if gw.perinatal is not None:  # perinatal follow-ups (DS-8)
        print(gw.perinatal.purge(dry_run=args.dry_run, today=args.today).describe())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from gateway.backup import BackupError, backup

    try:
        print(backup(_settings(args).database_url, args.out).describe())
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("encrypt it and keep it apart from the pseudonym secret: see docs/backup.md")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from gateway.backup import BackupError, restore

    settings = _settings(args)
    _prepare_sqlite_dir(settings.database_url)
    try:
        report = restore(args.file, settings.database_url)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.describe())
    return 0 if report.ok else 1


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="care-gateway",
        description="Interoperability gateway for Belgian integrated care (FHIR R4 and eHealth SOAP), "
        "with a simulated eHealth platform.",
    )
    parser.add_argument("--version", action="version", version=f"care-gateway {gateway.__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (default INFO)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the gateway's HTTP server", description="Run the gateway. With no database given it uses SQLite in ./var with the sandbox data, upgrading the schema first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--public-url", help="where clients reach this server (default http://HOST:PORT; $CARE_GATEWAY_PUBLIC_URL): "
                       "the embedded simulated IdP issues tokens for it")
    serve.add_argument("--workers", type=_positive, metavar="N", help="worker processes sharing the database (default: the number of cores)")
    _add_database(serve)
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema migrations", description="Create or upgrade the database schema (Alembic); an existing database is upgraded in place, never recreated.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_commands.add_parser("upgrade", help="upgrade the schema to the latest revision", description="Upgrade the schema to the latest (or the given) revision.")
    up.add_argument("--revision", default="head", help="target revision (default head)")
    _add_database(up)
    up.set_defaults(func=cmd_db_upgrade)
    cur = db_commands.add_parser("current", help="show the schema revision", description="Print the database's current schema revision.")
    _add_database(cur)
    cur.set_defaults(func=cmd_db_current)

    sandbox = commands.add_parser("sandbox", help="the simulated eHealth platform's sandbox data", description="Sandbox data of the simulated eHealth platform.")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    sserve = sandbox_commands.add_parser("serve", help="run the simulated eHealth platform alone", description="Run only the simulated eHealth platform (STS, IdP, attribute authority, TherLink, Consent, AddressBook, consultRN) under /ehealth, on its own database, for a gateway configured to trust it (CARE_GATEWAY_PLATFORM and the trust settings, see docs/going-live.md).")
    sserve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sserve.add_argument("--port", type=int, default=8100, help="port to listen on (default 8100)")
    sserve.add_argument("--public-url", help="where clients reach it (default http://HOST:PORT): its IdP's issuer is built on it")
    sserve.add_argument("--sandbox-database", metavar="URL", help="its database (default $CARE_GATEWAY_SANDBOX_DATABASE_URL, else sqlite:///var/sandbox-platform.sqlite3)")
    sserve.set_defaults(func=cmd_sandbox_serve)
    strust = sandbox_commands.add_parser("trust", help="write what a gateway needs to trust a simulated platform", description="Write the simulated platform's public certificates (CA, STS, attribute authority), an organisation's credential for the gateway's own signed calls, and a settings file (care-gateway.toml) for CARE_GATEWAY_SETTINGS: a gateway started with it trusts that platform and nothing else.")
    strust.add_argument("--platform-url", required=True, help="where the platform is reached, e.g. http://127.0.0.1:8100 (as given to sandbox serve --public-url)")
    strust.add_argument("--out", type=Path, required=True, help="folder to write to")
    strust.add_argument("--organisation", metavar="NIHII", help="the organisation the gateway signs as (default: the sandbox hospital)")
    strust.set_defaults(func=cmd_sandbox_trust)
    personas = sandbox_commands.add_parser("personas", help="list ready-made personas", description="List the ready-made personas: one per role of Integrated Care plus the edge cases, with their identifiers and what each may do.")
    personas.add_argument("--json", action="store_true", help="print JSON for machines")
    personas.add_argument("--seed", type=int, default=None, help="sandbox seed (default $CARE_GATEWAY_SANDBOX_SEED or 2026)")
    personas.set_defaults(func=cmd_personas)
    creds = sandbox_commands.add_parser("credentials", help="write a persona's or an organisation's key, certificate and PKCS#12 keystore", description="Write a persona's or an organisation's private key and certificate (PEM), the sandbox CA certificate, and a PKCS#12 keystore, for signing STS requests and WS-Security messages.")
    creds.add_argument("persona", help="persona key, e.g. gp, or an organisation as org-NIHII, e.g. org-69018864000 (see: care-gateway sandbox personas)")
    creds.add_argument("--out", type=Path, required=True, help="folder to write to")
    creds.add_argument("--password", default="sandbox", help="PKCS#12 keystore password (default: sandbox)")
    creds.set_defaults(func=cmd_credentials)
    mutate = sandbox_commands.add_parser("mutate", help="inject a national-register mutation", description="Inject a mutation into the simulated national register's feed: a death or a NISS change.")
    mutate.add_argument("kind", choices=["death", "niss-change"], help="what happened")
    mutate.add_argument("niss", help="the person's (current) NISS")
    mutate.add_argument("--new-niss", help="the new NISS, for niss-change")
    mutate.add_argument("--date", type=date.fromisoformat, help="date of death or of the change (default today)")
    mutate.add_argument("--sandbox-database", metavar="URL", help="the simulated platform's database (default: the embedded one's, $CARE_GATEWAY_SANDBOX_DATABASE_URL)")
    mutate.set_defaults(func=cmd_mutate)

    register = commands.add_parser("register", help="national-register feed", description="Follow the national register's mutation feed.")
    register_commands = register.add_subparsers(dest="register_command", metavar="ACTION", required=True)
    sync = register_commands.add_parser("sync", help="apply new mutations to inclusions", description="Read the mutation feed from where the gateway stopped and apply it: a death closes open inclusions (IC-R4), a NISS change moves them (IC-R5).")
    _add_database(sync)
    sync.set_defaults(func=cmd_register_sync)

    audit_parser = commands.add_parser("audit", help="the audit trail", description="The append-only, hash-chained audit trail.")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="check the hash chain", description="Check that the audit chain is intact; exit 1 and say where it breaks if not.")
    _add_database(verify)
    verify.set_defaults(func=cmd_audit_verify)
    seal = audit_commands.add_parser("seal", help="seal the records not yet in the chain", description="Chain every committed audit record not yet sealed (a running gateway does this after its commits; this is for after a stop or a restore).")
    _add_database(seal)
    seal.set_defaults(func=cmd_audit_seal)

    maps = commands.add_parser("mappings", help="the declarative mappings", description="The mappings FHIR <-> domain <-> SOAP kept in mappings/.")
    maps_commands = maps.add_subparsers(dest="mappings_command", metavar="ACTION", required=True)
    docs = maps_commands.add_parser("docs", help="generate the mapping tables", description="Write docs/mappings.md from mappings/ (or check that it is up to date).")
    docs.add_argument("--out", type=Path, default=Path("docs/mappings.md"), help="file to write (default docs/mappings.md)")
    docs.add_argument("--check", action="store_true", help="exit 1 if the file differs from what mappings/ gives")
    docs.set_defaults(func=cmd_mappings_docs)

    purge = commands.add_parser("purge", help="delete data past retention (IC-R6)", description="Delete inclusions ended more than 10 years ago, with their history and, for patients left with none, their consent decisions (IC-R6).")
    purge.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    purge.add_argument("--today", type=date.fromisoformat, help="compute retention as of this date (default today)")
    _add_database(purge)
    purge.set_defaults(func=cmd_purge)
    backup_parser = commands.add_parser("backup", help="back up the database while the gateway serves (DS-7)", description="Write a consistent backup of the gateway's database: SQLite's online backup API, or pg_dump on a snapshot for PostgreSQL. Writes go on meanwhile; the backup holds exactly what was committed when it started. See docs/backup.md.")
    backup_parser.add_argument("--out", type=Path, required=True, help="file to write (created readable by its owner only)")
    _add_database(backup_parser)
    backup_parser.set_defaults(func=cmd_backup)
    restore_parser = commands.add_parser("restore", help="restore a backup into an empty database", description="Restore a backup made by care-gateway backup into an empty database (never over data), then verify the audit trail's hash chain; exit 1 if it is broken.")
    restore_parser.add_argument("file", type=Path, help="the backup file")
    _add_database(restore_parser)
    restore_parser.set_defaults(func=cmd_restore)
    from gateway.conformance.cli import add_validate_parser; add_validate_parser(commands)  # noqa: E702 - care-gateway validate
    from gateway.conformance.suites.cli import add_conformance_parser; add_conformance_parser(commands)  # noqa: E702 - care-gateway conformance
    from gateway.rtw_cli import add_rtw_parser; add_rtw_parser(commands)  # noqa: E702 - care-gateway rtw
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from gateway.serving import LOG_FORMAT  # the workers log the same way

    logging.basicConfig(level=getattr(logging, args.log_level), format=LOG_FORMAT)
    func: Callable[[argparse.Namespace], int] = args.func
    from gateway.config import SettingsFileError
    from gateway.trust import TrustSettingsError

    try:
        return func(args)
    except TrustSettingsError as exc:  # start-up refused: say which trust setting is missing or wrong
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("see docs/going-live.md for every setting", file=sys.stderr)
        return 2
    except SettingsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
