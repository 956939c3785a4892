"""The sandbox console: the simulated platform's page for people, at
``/sandbox/console/`` (and at ``/`` of ``care-gateway sandbox serve``).

What a vendor would otherwise guess at, on one page:

- the personas and what each may do (the data of ``care-gateway sandbox
  personas``), with their credentials to download (PEM and PKCS#12, the files
  ``care-gateway sandbox credentials`` writes) and the organisations' too;
  the return-to-work personas in a table of their own, with the identity
  provider and STS each signs in at (eHealth, or the crossroads bank's for
  the regional services' users, RP-S1);
- a button per persona that gets an access token or an STS assertion the way
  a vendor's software does (:mod:`gateway.ehealth.console_tokens`), shows it
  decoded, and gives ``curl``, ``httpx`` or ``zeep`` snippets that use it
  against the gateway;
- the national register's people as the platform answers them now, and the
  announcement of a death or a NISS change (the register's own
  ``inject_death`` / ``inject_niss_change``, as ``care-gateway sandbox
  mutate`` and ``POST /sandbox/register/mutations`` do);
- the last calls the platform answered (:mod:`gateway.ehealth.call_log`).

Plain HTML written on the server, forms and links only, no script: usable
with the keyboard and without internet. It exists only while the platform's
sandbox actions are on (:func:`gateway.ehealth.platform.mount_platform`);
a gateway configured for a real platform serves no ``/ehealth`` and no
console at all.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from gateway.ehealth.call_log import CallRecorder
from gateway.ehealth.console_tokens import (
    SANDBOX_GATEWAY, AccessToken, Assertion, Example, PlatformClient, Refusal, SignsInAt, access_token, curl_snippet,
    dossier_example, example_patient, httpx_snippet, inclusions_example, signs_in_at, sts_assertion, zeep_snippet,
)
from gateway.web import html
from gateway.web.html import code, definitions, esc, table

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform
    from gateway.ehealth.rtw.sandbox import RtwSandbox
    from gateway.ehealth.sandbox.personas import Persona

PREFIX = "/sandbox/console"
STYLESHEET = "site.css"
PASSWORD = "sandbox"  # the PKCS#12 password, as `care-gateway sandbox credentials` defaults it
TITLE = "Sandbox console · simulated eHealth platform"


def mount_console(app: FastAPI, platform: "Platform") -> None:
    """The console's routes, and the recorder of the calls it shows."""
    app.add_middleware(CallRecorder, platform=platform)
    app.include_router(router(platform))


class _Casts:
    """Both casts of personas: integrated care's, and return to work's with
    where each signs in. One key names one persona across both (the
    token form and the credentials' URLs take a key only)."""

    def __init__(self, platform: "Platform") -> None:
        from gateway.ehealth.rtw.personas import rtw_personas
        from gateway.ehealth.rtw.state import rtw_state
        from gateway.ehealth.sandbox.personas import personas as make_personas

        self.care = make_personas(platform.registries)
        self.rtw_sandbox: "RtwSandbox" = rtw_state(platform).sandbox
        self.rtw = rtw_personas(self.rtw_sandbox)
        clash = sorted(set(self.care) & set(self.rtw))
        if clash:
            raise ValueError(f"persona keys used by both casts: {', '.join(clash)}")
        self.all: dict[str, "Persona"] = {**self.care, **self.rtw}

    def signs_in_at(self, key: str) -> SignsInAt | None:
        """Where a return-to-work persona signs in; None for integrated care's."""
        member = self.rtw_sandbox.staff.get(key)
        return signs_in_at(member.identity_provider) if member is not None else None


def router(platform: "Platform", *, at_root: bool = False) -> APIRouter:
    """The console under ``/sandbox/console``; with ``at_root``, only its page at ``/``."""
    casts = _Casts(platform)
    cast = casts.all
    client = PlatformClient(platform)
    if at_root:
        root = APIRouter(tags=["sandbox"])

        @root.get("/", summary="The sandbox console: personas, tokens, credentials, register, last calls")
        def home(request: Request) -> Response:
            return _console(request, platform, casts)

        return root

    api = APIRouter(prefix=PREFIX, tags=["sandbox"])

    @api.get("/", summary="The sandbox console: personas, tokens, credentials, register, last calls")
    def console(request: Request) -> Response:
        return _console(request, platform, casts)

    @api.get("/" + STYLESHEET, include_in_schema=False)
    def stylesheet() -> Response:
        return html.stylesheet()

    @api.post("/token", summary="Get a persona's access token or STS assertion, decoded, with snippets")
    async def token(request: Request) -> Response:
        form = await request.form()
        persona = cast.get(str(form.get("persona", "")))
        kind = str(form.get("kind", "access"))
        if persona is None or kind not in ("access", "saml"):
            return await _run(lambda: _console(request, platform, casts, status=400, message=(
                "refused", "Choose a persona of the table below and the kind of token (access or saml).")))
        return await _run(lambda: _token_page(request, platform, client, casts, persona, kind))

    @api.get("/credentials/{name}.zip", summary="A persona's or an organisation's credentials, zipped")
    def credentials_zip(name: str) -> Response:
        files = _credential_files(platform, cast, name)
        if files is None:
            return _not_found(name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for filename, data in files.items():
                archive.writestr(f"{name}/{filename}", data)
        return Response(buffer.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}-credentials.zip"'})

    @api.get("/credentials/{name}/{filename}", summary="One file of a persona's or an organisation's credentials")
    def credential_file(name: str, filename: str) -> Response:
        files = _credential_files(platform, cast, name)
        if files is None or filename not in files:
            return _not_found(f"{name}/{filename}")
        media = "application/x-pkcs12" if filename.endswith(".p12") else "application/x-pem-file"
        return Response(files[filename], media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @api.post("/register", summary="Announce a death or a NISS change in the sandbox national register")
    async def register(request: Request) -> Response:
        form = await request.form()
        values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}

        def announce() -> Response:
            try:
                message = _inject(platform, values)
            except ValueError as error:
                return _console(request, platform, casts, status=400, message=("refused", str(error)))
            return _console(request, platform, casts, message=("ok", message))

        return await _run(announce)

    @api.get("/calls", summary="The last calls the platform answered, newest first (JSON)")
    def calls() -> Any:
        return JSONResponse([c.as_json() for c in platform.calls.latest()])

    return api


async def _run(work: Callable[[], Response]) -> Response:
    """Run blocking work (the token flows call the platform's app) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


def _not_found(what: str) -> Response:
    return Response(f"No sandbox credential {what!r}: see the console's personas and organisations.\n",
                    status_code=404, media_type="text/plain; charset=utf-8")


def _credential_files(platform: "Platform", cast: dict[str, "Persona"], name: str) -> dict[str, bytes] | None:
    """The very files ``care-gateway sandbox credentials NAME`` writes, by file name."""
    from gateway.ehealth.pki import organisation_credential_files, persona_credential_files

    with tempfile.TemporaryDirectory(prefix="care-gateway-console-") as directory:
        out = Path(directory)
        try:
            if name in cast:
                written = persona_credential_files(platform.pki, cast[name], out, PASSWORD)
            elif name.startswith("org-") and platform.registries.organisation(name.removeprefix("org-")) is not None:
                written = organisation_credential_files(platform.pki, name.removeprefix("org-"), out, PASSWORD)
            else:
                return None
        except KeyError:  # a persona who only signs in at the IdP has no certificate
            return None
        return {path.name: path.read_bytes() for path in written}


def _inject(platform: "Platform", values: dict[str, str]) -> str:
    kind, niss = values.get("kind", ""), values.get("niss", "")
    if not niss:
        raise ValueError("Give the NISS of a person of the register below.")
    try:
        on = date.fromisoformat(values["date"]) if values.get("date") else platform.clock.today()
    except ValueError:
        raise ValueError(f"The date must be YYYY-MM-DD, not {values.get('date')!r}.") from None
    if kind == "death":
        mutation = platform.register.inject_death(niss, on)
        return (f"Announced: the death of {mutation.niss} on {mutation.effective.isoformat()} (mutation {mutation.seq}). "
                "The gateway applies it to inclusions when `care-gateway register sync` runs (IC-R4).")
    if kind == "niss-change":
        if not values.get("new_niss"):
            raise ValueError("A NISS change needs the person's new number.")
        mutation = platform.register.inject_niss_change(niss, values["new_niss"], on)
        return (f"Announced: {mutation.niss} is now {mutation.new_niss}, from {mutation.effective.isoformat()} "
                f"(mutation {mutation.seq}). The gateway applies it when `care-gateway register sync` runs (IC-R5).")
    raise ValueError(f"The mutation is a death or a niss-change, not {kind!r}.")


# ---------------------------------------------------------------- where things are


def _console_url(request: Request) -> str:
    """The console's path as this request reached the app (its root path included)."""
    return request.scope.get("root_path", "") + PREFIX + "/"


def _hosted_by_gateway(request: Request) -> bool:
    """The embedded default: the gateway serving this page also serves the platform."""
    return getattr(request.app.state, "gateway", None) is not None


def _gateway_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") if _hosted_by_gateway(request) else SANDBOX_GATEWAY


# ---------------------------------------------------------------- the console page


def _status(message: tuple[str, str] | None) -> str:
    if message is None:
        return '<p id="status" role="status"></p>'
    state, text = message
    return f'<p id="status" class="status {esc(state)}" role="{"alert" if state == "refused" else "status"}">{esc(text)}</p>'


def _credential_links(console: str, name: str, files: tuple[str, ...]) -> str:
    links = [html.link(f"{console}credentials/{name}/{f}", f) for f in files]
    links.append(html.link(f"{console}credentials/{name}.zip", "all (zip)"))
    return "<br>".join(links)


def _persona_files(key: str) -> tuple[str, ...]:
    return (f"{key}.key.pem", f"{key}.cert.pem", f"{key}.p12", "sandbox-ca.cert.pem")


def _token_buttons(console: str, persona: "Persona", certified: bool) -> str:
    saml = (f' <button type="submit" name="kind" value="saml" id="saml-{esc(persona.key)}" '
            f'aria-label="Get an STS assertion as {esc(persona.key)}">Get an STS assertion</button>' if certified else "")
    return (f'<form class="inline" method="post" action="{esc(console)}token">'
            f'<input type="hidden" name="persona" value="{esc(persona.key)}">'
            f'<button type="submit" name="kind" value="access" id="access-{esc(persona.key)}" '
            f'aria-label="Get an access token as {esc(persona.key)}">Get an access token</button>{saml}</form>')


def _has_certificate(platform: "Platform", key: str) -> bool:
    """Does the sandbox PKI hold this persona's certificate (some only sign in at the IdP)?"""
    try:
        platform.pki.persona(key)
    except KeyError:
        return False
    return True


def _name_cell(p: "Persona") -> str:
    return f'<strong id="persona-{esc(p.key)}">{esc(p.key)}</strong><br>{esc(p.display_name)}'


def _may(p: "Persona") -> str:
    return "<ul class=\"may\">" + "".join(f"<li>{esc(m)}</li>" for m in p.may) + "</ul>"


def _credentials_cell(console: str, key: str, certified: bool) -> str:
    return (_credential_links(console, key, _persona_files(key)) if certified
            else '<span class="muted">none: signs in at the identity provider only</span>')


def _personas(platform: "Platform", cast: dict[str, "Persona"], console: str) -> str:
    rows = []
    certified = {key: _has_certificate(platform, key) for key in cast}
    for p in cast.values():
        organisation = platform.registries.organisation(p.organisation_nihii) if p.organisation_nihii else None
        may = _may(p)
        rows.append([
            _name_cell(p),
            esc(p.role.value), code(p.niss), code(p.nihii) if p.nihii else "",
            f"{esc(organisation.name)} ({code(organisation.nihii)})" if organisation else "",
            f"{may}<span class=\"muted\">{esc(p.description)}</span>",
            _credentials_cell(console, p.key, certified[p.key]),
            _token_buttons(console, p, certified[p.key]),
        ])
    return table("Personas: one per situation the access rules tell apart", (
        "persona", "role", "NISS", "NIHII", "acts for", "may do", "credentials (PKCS#12 password: sandbox)", "token"),
        rows, id="personas")


def _rtw_personas(platform: "Platform", casts: _Casts, console: str) -> str:
    """The return-to-work personas: users of partners known by their CBE,
    each signing in at its partner's identity provider and STS (RP-S1)."""
    rows = []
    for p in casts.rtw.values():
        organisation = casts.rtw_sandbox.staff[p.key].organisation
        at = casts.signs_in_at(p.key)
        assert at is not None
        certified = _has_certificate(platform, p.key)
        rows.append([
            _name_cell(p),
            esc(p.role.value), code(p.niss), f"{esc(organisation.name)} ({code(organisation.cbe)})",
            f'{esc(at.name)}<br><span class="muted">STS {code(at.sts_issuer)}</span>', _may(p),
            _credentials_cell(console, p.key, certified), _token_buttons(console, p, certified),
        ])
    return table("Return-to-work personas: one per role of a partner, signing in where that partner signs in (RP-S1)", (
        "persona", "role", "NISS", "organisation (CBE)", "signs in at", "may do",
        "credentials (PKCS#12 password: sandbox)", "token"), rows, id="rtw-personas")


def _organisations(platform: "Platform", console: str) -> str:
    rows = []
    for o in sorted(platform.registries.organisations, key=lambda o: (o.kind.value, o.nihii)):
        name = f"org-{o.nihii}"
        rows.append([code(o.nihii), esc(o.name), esc(o.kind.value), code(o.cbe),
                     _credential_links(console, name, (f"{name}.key.pem", f"{name}.cert.pem", f"{name}.p12",
                                                       "sandbox-ca.cert.pem"))])
    return table("Organisations: their credentials sign an organisation's own calls (client_credentials, "
                 "certificate-only WS-Security)", ("NIHII", "name", "kind", "CBE", "credentials"), rows,
                 id="organisations")


def _register_forms(console: str) -> str:
    action = esc(console + "register")
    return (
        f'<form class="stack" method="post" action="{action}" aria-labelledby="death-title">'
        f'<h3 id="death-title">Announce a death (IC-R4)</h3><input type="hidden" name="kind" value="death">'
        f'<label for="death-niss">NISS of the person</label>'
        f'<input id="death-niss" name="niss" type="text" inputmode="numeric" autocomplete="off" required>'
        f'<label for="death-date">Date of death (default: today)</label>'
        f'<input id="death-date" name="date" type="date">'
        f'<button type="submit" id="announce-death">Announce the death</button></form>'
        f'<form class="stack" method="post" action="{action}" aria-labelledby="change-title">'
        f'<h3 id="change-title">Announce a NISS change (IC-R5)</h3><input type="hidden" name="kind" value="niss-change">'
        f'<label for="change-niss">Current NISS</label>'
        f'<input id="change-niss" name="niss" type="text" inputmode="numeric" autocomplete="off" required>'
        f'<label for="change-new-niss">New NISS</label>'
        f'<input id="change-new-niss" name="new_niss" type="text" inputmode="numeric" autocomplete="off" required>'
        f'<label for="change-date">Effective date (default: today)</label>'
        f'<input id="change-date" name="date" type="date">'
        f'<button type="submit" id="announce-change">Announce the NISS change</button></form>')


def _people(platform: "Platform", cast: dict[str, "Persona"]) -> str:
    persona_of = {p.niss: p.key for p in cast.values()}
    rows = []
    for person in platform.registries.people:
        now = platform.register.person(person.niss) or person
        rows.append([code(now.niss), esc(", ".join(now.previous_niss)), esc(f"{now.first_name} {now.last_name}"),
                     esc(now.birth_date.isoformat() if now.birth_date else ""),
                     esc(now.death_date.isoformat() if now.death_date else ""), esc(persona_of.get(person.niss, ""))])
    return table("People of the national register, as the platform answers now", (
        "NISS", "former NISS", "name", "born", "died", "persona"), rows, id="people")


def _calls(platform: "Platform", console: str) -> str:
    rows = [[esc(c.at.isoformat(timespec="seconds")), code(c.service), esc(c.operation), esc(c.caller),
             f'<span class="outcome-{esc(c.outcome)}">{esc(c.outcome)}</span>', code(c.code) if c.code else "",
             esc(c.status)] for c in platform.calls.latest()]
    caption = (f"The last {len(rows)} calls the platform answered, newest first (at most 200, kept in memory)"
               if rows else "No call yet: get a token above, or call a service.")
    return (table(caption, ("at", "service", "operation", "caller", "outcome", "code", "HTTP"), rows, id="calls")
            + f'<p>{html.link(console + "calls", "The same as JSON")}</p>')


def _console(request: Request, platform: "Platform", casts: _Casts, *, status: int = 200,
             message: tuple[str, str] | None = None) -> Response:
    console = _console_url(request)
    gateway_home = (f' The gateway it serves: {html.link(str(request.base_url), "its home page")}.'
                    if _hosted_by_gateway(request) else "")
    header = (f"<header><h1>Sandbox console</h1><p>The simulated eHealth platform at {code(platform.base_url)}: "
              f"its STS, identity provider, attribute authority, TherLink, Consent, AddressBook and consultRN, on "
              f"sandbox data only (seed {esc(platform.settings.seed)}).{gateway_home}</p><p class=\"muted\">This page "
              f"exists only while the platform's sandbox actions are on (CARE_GATEWAY_SANDBOX_ACTIONS); the real "
              f"platform has nothing like it.</p></header>")
    nav = ('<nav aria-label="On this page"><ul><li><a href="#personas-section">Personas</a></li>'
           '<li><a href="#rtw-personas-section">Return-to-work personas</a></li><li><a href="#organisations-section">Organisations</a></li><li><a href="#register">National register</a>'
           '</li><li><a href="#calls-section">Last calls</a></li></ul></nav>')
    body = (
        header + nav + "<main>" + _status(message)
        + f'<section id="personas-section" aria-labelledby="personas-title"><h2 id="personas-title">Personas</h2>'
          f'<p>Their certificates are issued by the sandbox CA and worthless anywhere else. A token is asked of the '
          f'platform\'s own STS and identity provider, as your software would ask.</p>'
          f'{_personas(platform, casts.care, console)}</section>'
        + f'<section id="rtw-personas-section" aria-labelledby="rtw-personas-title"><h2 id="rtw-personas-title">'
          f'Return-to-work personas</h2><p>Users of insurers, prevention services, INAMI and the regional employment '
          f'services (docs/return-to-work.md). A regional service\'s users sign in at the social-security crossroads '
          f'bank\'s identity provider and STS, the others at eHealth\'s: their tokens are asked there.</p>'
          f'{_rtw_personas(platform, casts, console)}</section>'
        + f'<section id="organisations-section" aria-labelledby="organisations-title"><h2 id="organisations-title">'
          f'Organisations</h2>{_organisations(platform, console)}</section>'
        + f'<section id="register" aria-labelledby="register-title"><h2 id="register-title">National register</h2>'
          f'{_register_forms(console)}{_people(platform, casts.all)}</section>'
        + f'<section id="calls-section" aria-labelledby="calls-title"><h2 id="calls-title">Last calls</h2>'
          f'{_calls(platform, console)}</section></main>')
    return html.page(TITLE, body, console + STYLESHEET, status=status)


# ---------------------------------------------------------------- a token's page


def _token_page(request: Request, platform: "Platform", client: PlatformClient, casts: _Casts, persona: "Persona",
                kind: str) -> Response:
    console = _console_url(request)
    gateway = _gateway_url(request)
    where = ("" if _hosted_by_gateway(request) else
             f"<p>Set {code('GATEWAY')} to your gateway's URL ({code(SANDBOX_GATEWAY)} is where "
             f"{code('care-gateway serve')} listens by default); it must trust this platform "
             f"({code('care-gateway sandbox trust')}, docs/going-live.md).</p>")
    rtw = casts.signs_in_at(persona.key)  # a return-to-work persona's own IdP and STS (RP-S1)
    example = (inclusions_example(example_patient(platform, persona)) if rtw is None
               else dossier_example(platform, persona))
    if kind == "access":
        result: AccessToken | Assertion | Refusal = access_token(platform, client.get(), persona, rtw)
        title = f"Access token for {persona.key}"
    else:
        result = sts_assertion(platform, client.get(), persona, rtw)
        title = f"STS assertion for {persona.key}"
    back = f'<p>{html.link(console, "Back to the console")}</p>'
    who = f"{persona.display_name}, {persona.role.value}"
    if rtw is not None:
        organisation = casts.rtw_sandbox.staff[persona.key].organisation
        who += f" of {organisation.name} (CBE {organisation.cbe}), signs in at {rtw.name}"
    header = f"<header><h1>{esc(title)}</h1><p>{esc(who)}.</p></header>"
    if isinstance(result, Refusal):
        body = (f'{header}<main><p id="status" class="status refused" role="alert">{esc(result.what)}: '
                f'{code(result.code)} {esc(result.message)}</p>{back}</main>')
        return html.page(f"{title} · sandbox console", body, console + STYLESHEET)
    if isinstance(result, AccessToken):
        main = _access_token_html(result, gateway, example) + where
    else:
        main = _assertion_html(result, gateway, example, console) + where
    body = f'{header}<main><p id="status" class="status ok" role="status">Issued.</p>{main}{back}</main>'
    return html.page(f"{title} · sandbox console", body, console + STYLESHEET)


def _access_token_html(token: AccessToken, gateway: str, example: Example) -> str:
    items = [
        ("How it was obtained", esc(token.flow)),
        ("Signature algorithm (alg)", code(token.header.get("alg"))),
        ("Key id (kid)", code(token.header.get("kid"))),
        ("Type (typ)", code(token.header.get("typ"))),
        ("Issued", esc(token.issued_at.isoformat() if token.issued_at else "")),
        ("Expires", esc(token.expires_at.isoformat() if token.expires_at else "")),
        ("Valid now (platform clock)", "yes" if token.valid_now else "no"),
        ("Signature", esc(token.verified)),
    ]
    claims = table("Claims (docs/oauth.md: the access token)", ("claim", "value"),
                   ([code(name), esc(value if isinstance(value, str) else _json(value))]
                    for name, value in token.claims.items()), id="claims")
    return (f'<section aria-labelledby="decoded-title"><h2 id="decoded-title">Decoded</h2>{definitions(items)}{claims}'
            f'<h3>The token</h3><pre id="token">{esc(token.token)}</pre></section>'
            f'<section aria-labelledby="use-title"><h2 id="use-title">Use it against the gateway</h2>'
            f'<p>{esc(example.what)} {code(example.niss)} over FHIR; a refusal names the rule your persona\'s situation '
            f'earns. It is valid until {esc(token.expires_at.isoformat() if token.expires_at else "its exp claim")}.</p>'
            f'<h3 id="curl-title">curl</h3><pre id="curl-snippet" aria-labelledby="curl-title">'
            f'{esc(curl_snippet(gateway, token.token, example))}</pre>'
            f'<h3 id="httpx-title">Python (httpx)</h3><pre id="httpx-snippet" aria-labelledby="httpx-title">'
            f'{esc(httpx_snippet(gateway, token.token, example))}</pre></section>')


def _assertion_html(assertion: Assertion, gateway: str, example: Example, console: str) -> str:
    items = [
        ("AssertionID", code(assertion.assertion_id)),
        ("Issuer", code(assertion.issuer)),
        ("Issued", esc(assertion.issued_at)),
        ("Valid from (NotBefore)", esc(assertion.not_before)),
        ("Valid until (NotOnOrAfter)", esc(assertion.not_on_or_after)),
        ("Subject", code(assertion.subject)),
        ("Confirmation", code(assertion.confirmation)),
        ("Signature algorithm", code(assertion.signature_algorithm)),
        ("Digest algorithm", code(assertion.digest_algorithm)),
        ("Canonicalisation", code(assertion.canonicalization)),
        ("Signature", esc(assertion.verified)),
    ]
    attributes = table("Attributes the STS certified (docs/sts.md)", ("namespace", "name", "values"),
                       ([code(ns), code(name), esc(", ".join(values))] for ns, name, values in assertion.attributes),
                       id="attributes")
    files = _credential_links(console, assertion.persona, _persona_files(assertion.persona))
    return (f'<section aria-labelledby="decoded-title"><h2 id="decoded-title">Decoded</h2>{definitions(items)}{attributes}'
            f'<details><summary>The assertion, as issued</summary><pre id="assertion">'
            f'{esc(assertion.xml.decode("utf-8"))}</pre></details></section>'
            f'<section aria-labelledby="use-title"><h2 id="use-title">Use it against the gateway</h2>'
            f'<p>A holder-of-key assertion is used with the key of the certificate it confirms: put '
            f'{code(assertion.persona + ".key.pem")} and {code(assertion.persona + ".cert.pem")} in {code("creds/")}:</p>'
            f'<p id="credentials">{files}</p>'
            f'<h3 id="zeep-title">Python (zeep)</h3><pre id="zeep-snippet" aria-labelledby="zeep-title">'
            f'{esc(zeep_snippet(gateway, assertion.persona, assertion.xml, example))}</pre></section>')


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


__all__ = ["PREFIX", "mount_console", "router"]
