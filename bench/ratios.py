"""The gateway over HTTP against a bare reference, as ratios (issue 15).

    python3 bench/ratios.py                                      # SQLite, 1 worker process
    python3 bench/ratios.py --workers 2                          # SQLite, 2 worker processes
    python3 bench/ratios.py --database postgresql://postgres@127.0.0.1:55432/cg_bench --reset
    python3 bench/ratios.py --database postgresql://... --reset --workers 2

What it does, on one machine, in one run:
- stores inclusions (``--inclusions``, default 10,000) in a fresh gateway
  database, plus a few for the patients the sandbox GP has a therapeutic
  link with, through the use cases;
- starts ``care-gateway serve --workers N`` (the embedded default: the
  simulated platform in the same processes), fetches real tokens from its
  simulated platform once (the GP's and a PSI coordinator's access tokens,
  the GP's STS assertion);
- starts the bare reference (``bench/reference_server.py``: Starlette on the
  same uvicorn, stored FHIR JSON read by id from an indexed SQLite table,
  the same number of workers) holding copies of the EpisodeOfCare the
  gateway returns;
- runs wrk (``apt-get install wrk``; the load generator is C, not the
  bottleneck) in alternating rounds: the reference, then every case, again;
- prints, per case, the median over rounds of req/s, p50, p99, non-2xx
  answers and the largest RSS of a server process under load, each beside
  its ratio to the reference's figure of the same round; and, for SOAP,
  the ratio to its crypto cost (its two XML signatures verified with signxml
  alone, on one core, in this process).

Cases: read, search (first page; a later page), validated create,
transaction of 50, $validate, SOAP consult and declare, token exchange.
``--cases`` picks some; ``--duration`` and ``--rounds`` set the length.
It asserts nothing about time; ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402

CASES = ("read", "search", "search-page", "create", "transaction", "validate", "soap-consult", "soap-declare", "token")
# Clients per case: reads as a practice's many workstations, writes and SOAP as an integration engine's few.
CONNECTIONS = {"read": 16, "search": 16, "search-page": 16, "token": 16}
WRITE_CONNECTIONS = 8
SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"
INCLUSION = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
STATUS_CS = "https://care-gateway.be/fhir/CodeSystem/inclusion-status"
CONSENT_EXT = "https://care-gateway.be/fhir/StructureDefinition/research-consent"
FHIR_JSON = "application/fhir+json"


# ------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler:
    """The largest RSS of one process of a server's tree while a case runs."""

    def __init__(self, pid: int) -> None:
        self.pids = process_tree(pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max([self.peak, *(rss_mb(p) for p in self.pids)])
            self._stop.wait(0.25)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max([self.peak, *(rss_mb(p) for p in self.pids)])


def start_gateway(checkout: Path, port: int, url: str, sandbox_url: str, public: str, workers: int, tmp: Path,
                  name: str) -> subprocess.Popen[bytes]:
    """``care-gateway serve`` of ``checkout`` (its gateway package first on the path, whatever is installed)."""
    env = {**os.environ, "CARE_GATEWAY_DATABASE_URL": url, "CARE_GATEWAY_SANDBOX_DATABASE_URL": sandbox_url,
           "CARE_GATEWAY_PUBLIC_URL": public,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(checkout).resolve()), os.environ.get("PYTHONPATH")]))}
    # Always say how many: `serve` defaults to one worker per core. Only
    # checkouts older than --workers (one process then) go without it.
    option = ["--workers", str(workers)] if "--workers" in (Path(checkout) / "gateway" / "cli.py").read_text() else []
    return subprocess.Popen([sys.executable, "-m", "gateway", "--log-level", "WARNING", "serve", "--host", "127.0.0.1",
                             "--port", str(port), *option],
                            cwd=tmp, env=env, stdout=(tmp / f"{name}.log").open("w"), stderr=subprocess.STDOUT)


def copy_sqlite(tmp: Path, names: tuple[str, ...], prefix: str) -> list[str]:
    """Consistent copies of SQLite files (their WAL checkpointed first), as URLs."""
    import sqlite3

    urls = []
    for name in names:
        source = sqlite3.connect(tmp / name)
        target = sqlite3.connect(tmp / f"{prefix}{name}")
        source.backup(target)
        source.close()
        target.close()
        urls.append(f"sqlite:///{tmp / f'{prefix}{name}'}")
    return urls


def copy_postgresql(url: str) -> str:
    """A copy of the PostgreSQL database (``<name>_other``, made from it as a template)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gateway.domain.database import normalise_url

    source = make_url(normalise_url(url))
    name = f"{source.database}_other"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    admin.dispose()
    return source.set(database=name).render_as_string(hide_password=False)


# ------------------------------------------------------------------ wrk


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    rss_mb: float
    requests: int = 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = int(bad.group(1)) if bad else 0
    if errors:
        failed += sum(int(g) for g in errors.groups())
    return rps, p50, p99, failed, total


def lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[\n{text}]{eq}]"  # a long bracket drops one leading newline


def write_requests(path: Path, requests: list[tuple[str, str, dict[str, str], str | None]]) -> None:
    """A Lua file returning ``{{method, path, headers, body}, ...}`` for bench/wrk_requests.lua."""
    parts = ["return {"]
    for method, target, headers, body in requests:
        header_items = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
        parts.append(f"{{{lua_string(method)}, {lua_string(target)}, {{{header_items}}}, "
                     f"{lua_string(body) if body is not None else 'nil'}}},")
    parts.append("}")
    path.write_text("\n".join(parts), encoding="utf-8")


def run_wrk(base: str, requests_file: Path, *, duration: int, connections: int, threads: int, server_pid: int) -> Figures:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency",
               "-s", str(HERE / "wrk_requests.lua"), base, "--", str(requests_file), str(threads)]
    with RssSampler(server_pid) as rss:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or "Requests/sec" not in done.stdout:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    rps, p50, p99, failed, total = parse_wrk(done.stdout)
    if done.stderr.strip():
        print("    " + done.stderr.strip().splitlines()[0][:300], flush=True)
    return Figures(rps, p50, p99, failed, rss.peak, total)


# ------------------------------------------------------------------ the gateway's data


@dataclass
class World:
    """What the cases need to know about the data and the servers."""

    base: str
    readable: list[str]
    linked: list[str]
    living: list[str]
    psis: list[str]
    coordinator_psi: str
    tokens: dict[str, str] = field(default_factory=dict)
    saml: bytes = b""
    pages: list[str] = field(default_factory=list)


def prepare_database(url: str, sandbox_url: str, public: str, inclusions: int) -> dict[str, Any]:
    """A fresh gateway schema with ``inclusions`` stored, and inclusions of
    the GP's linked patients declared through the use cases."""
    import gateway.models  # noqa: F401
    from gateway.config import Settings
    from gateway.domain.database import Database
    from gateway.domain.inclusions import DeclareInclusion
    from gateway.domain.model import Base
    from gateway.ehealth.sandbox.personas import personas
    from gateway.schema import upgrade
    from gateway.wiring import build_gateway
    from sqlalchemy import text

    db = Database(url)
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.dispose()
    upgrade(url)
    gw = build_gateway(Settings(database_url=url, sandbox_database_url=sandbox_url, public_url=public))
    registries = gw.platform.registries
    cast = personas(registries)
    psis = sorted(o.nihii for o in registries.organisations if o.kind.value == "psi")
    today = gw.clock.today()
    gp = cast["gp"]
    living = [p.niss for p in registries.patients() if p.death_date is None]
    linked = [n for n in living if gw.platform.facts.has_therapeutic_link(gp.niss, n, today)]
    readable = []
    for i, niss in enumerate(linked):
        for k in range(3):
            view = gw.inclusions.declare(gp.principal(), DeclareInclusion(
                patient_niss=niss, psi_nihii=psis[(i + k) % len(psis)], status="information",
                start_date=today - timedelta(days=30 + k), consent_decision="agree", consent_date=today - timedelta(days=30)))
            readable.append(view.id)
    from inclusions import fill  # bench/inclusions.py

    fill(gw, inclusions, psis)
    coordinator = cast["psi-coordinator"]
    gw.db.dispose()
    gw.platform.db.dispose()
    return {"readable": readable, "linked": linked, "living": living, "psis": psis,
            "coordinator_psi": coordinator.organisation_nihii}


def fetch_tokens(world: World) -> None:
    from gateway.ehealth.pki import load_pki
    from gateway.ehealth.sandbox.personas import personas
    from gateway.ehealth.sandbox.registries import generate_registries
    from gateway.ehealth.sandbox_tokens import persona_access_token
    from gateway.ehealth.sts_client import persona_token

    cast = personas(generate_registries(2026))
    pki = load_pki(2026)
    for key in ("gp", "psi-coordinator"):
        world.tokens[key] = persona_access_token(world.base, pki, cast[key], lifetime=timedelta(hours=2))
    world.saml = persona_token(world.base, pki, cast["gp"], lifetime=timedelta(hours=2))


def episode(patient: str, psi: str, start: date) -> dict[str, Any]:
    return {
        "resourceType": "EpisodeOfCare", "meta": {"profile": [INCLUSION]}, "status": "active",
        "type": [{"coding": [{"system": STATUS_CS, "code": "information"}]}],
        "patient": {"identifier": {"system": SSIN, "value": patient}},
        "managingOrganization": {"identifier": {"system": NIHDI, "value": psi}},
        "period": {"start": start.isoformat()},
        "extension": [{"url": CONSENT_EXT, "extension": [
            {"url": "decision", "valueCode": "permit"}, {"url": "date", "valueDate": start.isoformat()}]}],
    }


def bearer(world: World, key: str = "gp", content: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {world.tokens[key]}", "Accept": FHIR_JSON}
    if content:
        headers["Content-Type"] = FHIR_JSON
    return headers


def later_pages(world: World) -> list[str]:
    """Paths of pages 2 to 6 of the coordinator's list of their PSI's inclusions."""
    pages: list[str] = []
    url: str | None = f"{world.base}/fhir/EpisodeOfCare?_count=20"
    with httpx.Client(headers=bearer(world, "psi-coordinator"), timeout=60) as http:
        while url and len(pages) < 6:
            answer = http.get(url)
            answer.raise_for_status()
            links = {link["relation"]: link["url"] for link in answer.json().get("link", [])}
            url = links.get("next")
            if url:
                pages.append(url)
    if len(pages) < 2:
        raise SystemExit("the coordinator's list has fewer than 3 pages: store more inclusions (--inclusions)")
    return [urlsplit(p).path + "?" + urlsplit(p).query for p in pages[1:]]


def signed_soap(world: World, payloads: list[Any]) -> list[str]:
    from lxml import etree

    from gateway.domain.clock import SystemClock
    from gateway.ehealth.pki import load_pki
    from gateway.identity.signing import sign_with_saml
    from gateway.identity.xml import parse_untrusted
    from gateway.soap11.envelope import envelope_bytes

    credential = load_pki(2026).persona("gp")
    clock = SystemClock()
    return [etree.tostring(sign_with_saml(parse_untrusted(envelope_bytes(p)), world.saml, credential.private_key,
                                          credential.certificate, clock=clock, lifetime=600)).decode()
            for p in payloads]


def soap_payload(name: str, items: dict[str, Any]) -> Any:
    from lxml import etree

    from gateway.soap.integrated_care import NS

    payload = etree.Element(f"{{{NS}}}{name}Request", nsmap={"ic": NS})

    def fill(parent: Any, values: dict[str, Any]) -> None:
        for key, value in values.items():
            child = etree.SubElement(parent, f"{{{NS}}}{key}")
            if isinstance(value, dict):
                fill(child, value)
            else:
                child.text = str(value)

    fill(payload, items)
    return payload


SOAP_PATH = "/soap/IntegratedCare/v1"


def soap_requests(world: World, kind: str, count: int) -> list[tuple[str, str, dict[str, str], str | None]]:
    from gateway.soap.integrated_care import ACTION

    today = date.today()
    if kind == "soap-consult":
        payloads = [soap_payload("GetPatientInclusions", {"PatientSsin": world.linked[i % len(world.linked)]}) for i in range(count)]
        action = "GetPatientInclusions"
    else:
        payloads = [soap_payload("DeclareInclusion", {
            "PatientSsin": world.living[i % len(world.living)], "PsiNihii": world.psis[i % len(world.psis)],
            "Status": "information", "StartDate": (today - timedelta(days=10 + i % 50)).isoformat(),
            "ResearchConsent": {"Decision": "agree", "Date": (today - timedelta(days=10)).isoformat()}}) for i in range(count)]
        action = "DeclareInclusion"
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}{action}"'}
    return [("POST", SOAP_PATH, headers, body) for body in signed_soap(world, payloads)]


def token_requests(world: World, count: int) -> list[tuple[str, str, dict[str, str], str | None]]:
    from urllib.parse import urlencode

    from gateway.domain.clock import SystemClock
    from gateway.ehealth.pki import load_pki
    from gateway.ehealth.sandbox.personas import personas
    from gateway.ehealth.sandbox.registries import generate_registries
    from gateway.ehealth.sandbox_tokens import JWT_BEARER, REALM, client_assertion

    endpoint = httpx.get(f"{world.base}{REALM}/.well-known/openid-configuration", timeout=30).json()["token_endpoint"]
    gp = personas(generate_registries(2026))["gp"]
    credential = load_pki(2026).persona("gp")
    clock = SystemClock()
    subject = base64.urlsafe_b64encode(world.saml).rstrip(b"=").decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    path = urlsplit(endpoint).path
    return [("POST", path, headers, urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:saml1", "subject_token": subject,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": client_assertion(credential, f"ssin-{gp.niss}", endpoint, clock)})) for _ in range(count)]


def case_requests(world: World, case: str, budget: int) -> list[tuple[str, str, dict[str, str], str | None]]:
    """The requests of one case; ``budget`` bounds those that may be sent once only."""
    today = date.today()
    if case == "read":
        return [("GET", f"/fhir/EpisodeOfCare/{i}", bearer(world), None) for i in world.readable]
    if case == "search":
        return [("GET", f"/fhir/EpisodeOfCare?patient-identifier={SSIN}|{n}", bearer(world), None) for n in world.linked]
    if case == "search-page":
        return [("GET", page, bearer(world, "psi-coordinator"), None) for page in world.pages]
    if case == "create":
        return [("POST", "/fhir/EpisodeOfCare", bearer(world, content=True),
                 json.dumps(episode(world.living[i % len(world.living)], world.psis[i % len(world.psis)],
                                    today - timedelta(days=5 + i % 40)))) for i in range(300)]
    if case == "transaction":
        bundles = []
        for b in range(10):
            entries = [{"fullUrl": f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
                        "resource": episode(world.living[(b * 50 + i) % len(world.living)], world.psis[i % len(world.psis)],
                                            today - timedelta(days=5 + i % 40)),
                        "request": {"method": "POST", "url": "EpisodeOfCare"}} for i in range(50)]
            bundles.append(("POST", "/fhir", bearer(world, content=True),
                            json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries})))
        return bundles
    if case == "validate":
        return [("POST", "/fhir/EpisodeOfCare/$validate", bearer(world, content=True),
                 json.dumps(episode(world.living[i % len(world.living)], world.psis[0], today - timedelta(days=7))))
                for i in range(50)]
    if case in ("soap-consult", "soap-declare"):
        return soap_requests(world, case, budget)
    if case == "token":
        return token_requests(world, budget)
    raise SystemExit(f"unknown case {case!r}; cases: {', '.join(CASES)}")


# ------------------------------------------------------------------ crypto reference


def crypto_rate(world: World, seconds: float = 3.0) -> float:
    """Messages per second, on one core, for verifying a SOAP consult's two
    XML signatures (the STS's on the assertion, the caller's on Body and
    Timestamp) with signxml alone, from bytes (parsing included)."""
    from lxml import etree
    from signxml import XMLVerifier

    from gateway.domain.clock import SystemClock
    from gateway.ehealth.pki import load_pki
    from gateway.identity.xmldsig import verifier_config
    from gateway.namespaces import SAML1_NS, SOAP11_NS, WSSE_NS

    pki = load_pki(2026)
    sts = pki.platform("sts").certificate
    holder = pki.persona("gp").certificate
    messages = [body.encode() for *_, body in soap_requests(world, "soap-consult", 50)]  # type: ignore[union-attr]
    now = SystemClock().now()
    location = f"./{{{SOAP11_NS}}}Header/{{{WSSE_NS}}}Security/"
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        raw = messages[done % len(messages)]
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        assertion = root.find(f".//{{{SAML1_NS}}}Assertion")
        XMLVerifier().verify(assertion, x509_cert=sts, id_attribute="AssertionID",
                             expect_config=verifier_config("./", at=now, references=1))
        XMLVerifier().verify(root, x509_cert=holder, id_attribute="Id",
                             expect_config=verifier_config(location, at=now, references=True))
        done += 1
    return done / (time.perf_counter() - started)


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="the gateway's database URL (default: SQLite in a temporary folder); needs --reset")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the gateway's tables in --database first")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the gateway and of the reference (default 1)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per case and round (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2); medians are printed")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--inclusions", type=int, default=10_000, help="inclusions stored before measuring (default 10000)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also measure the gateway of another checkout (a folder holding its gateway/), on copies of "
                        "the same databases (PostgreSQL: NAME_other, made from NAME as a template), case by case in "
                        "alternating order: how one change pays")
    parser.add_argument("--other-workers", type=int, metavar="N",
                        help="worker processes of the --against gateway (default: --workers); --against . --other-workers 2 "
                        "measures how the workers scale")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is needed: apt-get install -y wrk (Debian's package); CI needs none of it")
    if args.other_workers and not args.against:
        parser.error("--other-workers goes with --against")
    if args.database and not args.reset:
        parser.error("--database needs --reset: the benchmark recreates the gateway's tables")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for case in cases:
        if case not in CASES:
            parser.error(f"unknown case {case!r}; cases: {', '.join(CASES)}")

    tmp = Path(tempfile.mkdtemp(prefix="care-gateway-bench-"))
    url = args.database or f"sqlite:///{tmp / 'gateway.sqlite3'}"
    sandbox_url = f"sqlite:///{tmp / 'platform.sqlite3'}"
    port, ref_port, other_port = free_port(), free_port(), free_port()
    base, ref_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ref_port}"
    other_base = f"http://127.0.0.1:{other_port}"
    dialect = "postgresql" if url.startswith("postgres") else "sqlite"
    print(f"gateway database: {dialect}; {args.workers} worker process(es); wrk -t{args.threads}; "
          f"{args.rounds} round(s) of {args.duration} s; {os.cpu_count()} cores", flush=True)
    started = time.perf_counter()
    facts = prepare_database(url, sandbox_url, base, args.inclusions)
    print(f"stored {args.inclusions:,} inclusions and {len(facts['readable'])} of the GP's linked patients "
          f"in {time.perf_counter() - started:.0f} s", flush=True)

    other: subprocess.Popen[bytes] | None = None
    if args.against:  # the other checkout, on copies of the same databases, trusting the same IdP
        copies = copy_sqlite(tmp, ("platform.sqlite3",) if args.database else ("gateway.sqlite3", "platform.sqlite3"), "other-")
        other_url = copy_postgresql(url) if args.database else copies[0]
        other = start_gateway(args.against, other_port, other_url, copies[-1], base, args.other_workers or args.workers,
                              tmp, "other")
    gateway = start_gateway(HERE.parent, port, url, sandbox_url, base, args.workers, tmp, "gateway")
    reference: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = {"database": dialect, "workers": args.workers, "duration": args.duration,
                               "rounds": args.rounds, "inclusions": args.inclusions, "cases": {}}
    try:
        wait_up(base + "/health", gateway, tmp / "gateway.log")
        if other is not None:
            wait_up(other_base + "/health", other, tmp / "other.log")
        world = World(base=base, **facts)
        fetch_tokens(world)
        if "search-page" in cases:
            world.pages = later_pages(world)
        sample = httpx.get(f"{base}/fhir/EpisodeOfCare/{world.readable[0]}", headers=bearer(world), timeout=30)
        sample.raise_for_status()
        (tmp / "resource.json").write_text(sample.text)
        ref_db = tmp / "reference.sqlite3"
        subprocess.run([sys.executable, str(HERE / "reference_server.py"), "--database", str(ref_db), "--fill",
                        str(tmp / "resource.json"), "--count", "10000"], check=True)
        ref_log = tmp / "reference.log"
        reference = subprocess.Popen([sys.executable, str(HERE / "reference_server.py"), "--database", str(ref_db),
                                      "--port", str(ref_port), "--workers", str(args.workers)],
                                     stdout=ref_log.open("w"), stderr=subprocess.STDOUT)
        wait_up(f"{ref_base}/fhir/EpisodeOfCare/ref-0", reference, ref_log)
        ref_file = tmp / "reference.lua"
        write_requests(ref_file, [("GET", f"/fhir/EpisodeOfCare/ref-{i}", {"Accept": FHIR_JSON}, None) for i in range(10_000)])

        if "soap-consult" in cases:
            results["soap_crypto_per_s"] = crypto_rate(world)
            print(f"SOAP consult's two signatures verified with signxml alone: {results['soap_crypto_per_s']:.0f} "
                  "messages/s on one core", flush=True)

        rounds: dict[str, list[tuple[Figures, Figures]]] = {c: [] for c in cases}
        versus: dict[str, list[tuple[Figures, Figures]]] = {c: [] for c in cases}  # (this checkout, the other)
        # Requests sent once only (signed messages, client assertions), per second of a run: more than
        # the gateway answers here; a figure near its budget shows as non-2xx (replays refused).
        once_only = {"soap-consult": 150, "soap-declare": 150, "token": 800}
        for r in range(args.rounds):
            ref = run_wrk(ref_base, ref_file, duration=args.duration, connections=16, threads=args.threads,
                          server_pid=reference.pid)
            print(f"round {r + 1}: reference {ref.rps:,.0f} req/s, p50 {ref.p50_ms:.2f} ms, p99 {ref.p99_ms:.2f} ms, "
                  f"{ref.non_2xx} non-2xx, RSS {ref.rss_mb:.0f} MB", flush=True)
            for case in cases:
                measured: dict[str, Figures] = {}
                order = [("gateway", base, gateway), ("other", other_base, other)] if other is not None else [("gateway", base, gateway)]
                for name, where, server in (order if r % 2 == 0 else order[::-1]):  # who goes first alternates
                    requests_file = tmp / f"{case}.lua"
                    write_requests(requests_file, case_requests(world, case, once_only.get(case, 0) * args.duration))
                    measured[name] = run_wrk(where, requests_file, duration=args.duration,
                                             connections=CONNECTIONS.get(case, WRITE_CONNECTIONS), threads=args.threads,
                                             server_pid=server.pid)  # type: ignore[union-attr]
                    figures = measured[name]
                    print(f"  {case:<13} {figures.rps:>8,.1f} req/s  p50 {figures.p50_ms:8.2f} ms  p99 {figures.p99_ms:8.2f} ms  "
                          f"{figures.non_2xx} non-2xx  RSS {figures.rss_mb:.0f} MB" + ("  (other)" if name == "other" else ""),
                          flush=True)
                rounds[case].append((measured["gateway"], ref))
                if other is not None:
                    versus[case].append((measured["gateway"], measured["other"]))
        print()
        print(table(rounds, results))
        if other is not None:
            print()
            print(comparison(versus, args.against))
        for case, pairs in rounds.items():
            results["cases"][case] = {"rounds": [{"gateway": asdict(g), "reference": asdict(f)} for g, f in pairs]}
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if reference is not None:
            stop(reference)
        if other is not None:
            stop(other)
        stop(gateway)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def comparison(versus: dict[str, list[tuple[Figures, Figures]]], other: Path) -> str:
    """Markdown: this checkout against the other, case by case (medians of the rounds' ratios)."""
    lines = [f"this checkout against {other}:", "",
             "| case | this req/s | other req/s | this/other | this p50 ms | other p50 ms |", "|---|---|---|---|---|---|"]
    for case, pairs in versus.items():
        lines.append(f"| {case} | {median([a.rps for a, _ in pairs]):,.1f} | {median([b.rps for _, b in pairs]):,.1f} | "
                     f"{median([a.rps / b.rps for a, b in pairs if b.rps]):.2f} | {median([a.p50_ms for a, _ in pairs]):.1f} | "
                     f"{median([b.p50_ms for _, b in pairs]):.1f} |")
    return "\n".join(lines)


def table(rounds: dict[str, list[tuple[Figures, Figures]]], results: dict[str, Any]) -> str:
    """Markdown: each case's medians and their ratios to the reference's of the same rounds."""
    lines = ["| case | req/s | ratio | p50 ms | ratio | p99 ms | ratio | non-2xx | RSS MB/process | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    refs = [f for pairs in rounds.values() for _, f in pairs]
    if refs:
        lines.append(f"| reference (bare read) | {median([f.rps for f in refs]):,.0f} | 1 | {median([f.p50_ms for f in refs]):.2f} | 1 | "
                     f"{median([f.p99_ms for f in refs]):.2f} | 1 | {sum(f.non_2xx for f in refs)} | "
                     f"{median([f.rss_mb for f in refs]):.0f} | 1 |")
    for case, pairs in rounds.items():
        g = [p[0] for p in pairs]
        ratio = median([a.rps / b.rps for a, b in pairs])
        p50 = median([a.p50_ms / b.p50_ms for a, b in pairs])
        p99 = median([a.p99_ms / b.p99_ms for a, b in pairs])
        rss = median([a.rss_mb / b.rss_mb for a, b in pairs])
        label = case + (" (50 entries)" if case == "transaction" else "")
        lines.append(f"| {label} | {median([x.rps for x in g]):,.1f} | {ratio:.1%} | {median([x.p50_ms for x in g]):.2f} | "
                     f"{p50:.1f}x | {median([x.p99_ms for x in g]):.2f} | {p99:.1f}x | {sum(x.non_2xx for x in g)} | "
                     f"{max(x.rss_mb for x in g):.0f} | {rss:.1f}x |")
    crypto = results.get("soap_crypto_per_s")
    if crypto and "soap-consult" in rounds:
        consult = median([p[0].rps for p in rounds["soap-consult"]])
        lines.append("")
        lines.append(f"SOAP consult: {consult:,.1f} calls/s against {crypto:,.0f} messages/s for its two signatures "
                     f"alone on one core: {crypto / consult:.1f}x its crypto cost")
    if "transaction" in rounds:
        tx = median([p[0].rps for p in rounds["transaction"]])
        lines.append(f"transaction of 50: {tx * 50:,.0f} resources/s")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
