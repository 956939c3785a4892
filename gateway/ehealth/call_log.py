"""The last calls the simulated platform answered, for the sandbox console:
which service, who called (a persona, an organisation, a client), the
outcome and, for a refusal, its stable code.

:class:`CallRecorder` is a small ASGI middleware on every app that serves
the platform (``care-gateway sandbox serve``, the embedded default's
``/ehealth``, and the in-process app the gateway's adapters call). It looks
only at requests under ``/ehealth`` and ``/sandbox`` (contracts, ``?wsdl``,
excepted), keeps a bounded copy of each request and answer, and after the
answer writes one :class:`CallRecord` to the platform's :class:`CallLog`, a
bounded deque in memory (nothing is stored: the console is a window, not an
audit trail). Who called is read from what the request itself shows (the
certificate in its WS-Security header or assertion, its client assertion,
the persona it signs in as, the subject of the token it was given), for
display only: the services have already decided on their own.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qs

from cryptography import x509
from lxml import etree

from gateway.namespaces import DS_NS, FAULT_NS, SAMLP2_NS, SOAP11_NS, WSSE_NS

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

KEPT = 200  # calls kept
WATCHED = ("/ehealth/", "/sandbox/register/")
MAX_COPY = 256 * 1024  # bytes of a request or answer looked at; the rest is not needed to say who and how
SAML2_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


@dataclass(frozen=True)
class CallRecord:
    """One call the platform answered."""

    at: datetime  # the platform's clock
    method: str
    service: str  # the path under /ehealth (or /sandbox)
    operation: str  # the SOAP operation, the OAuth grant, or the HTTP method
    caller: str  # a persona key, org-NIHII, a client id, or "anonymous"
    outcome: str  # answered, refused, fault
    status: int  # HTTP status
    code: str | None  # the refusal's stable code (cg:Error/Code, OAuth error, SAML status)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


class CallLog:
    """The last :data:`KEPT` calls, newest last; safe across threads."""

    def __init__(self, size: int = KEPT) -> None:
        self._calls: deque[CallRecord] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, call: CallRecord) -> None:
        with self._lock:
            self._calls.append(call)

    def latest(self, limit: int | None = None) -> list[CallRecord]:
        """Newest first."""
        with self._lock:
            calls = list(self._calls)
        calls.reverse()
        return calls[:limit] if limit is not None else calls

    def __len__(self) -> int:
        return len(self._calls)


class CallRecorder:
    """ASGI middleware writing a :class:`CallRecord` per call of a platform service."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], platform: "Platform") -> None:
        self.app = app
        self.platform = platform
        self.callers = Callers(platform)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(WATCHED) or _is_contract(scope):
            await self.app(scope, receive, send)
            return
        sent: list[bytes] = []
        answer: dict[str, Any] = {"status": 0, "headers": []}
        received = bytearray()

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(received) < MAX_COPY:
                received.extend(message.get("body", b"")[: MAX_COPY - len(received)])
            return message

        async def send_copy(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body" and sum(map(len, sent)) < MAX_COPY:
                sent.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_copy, send_copy)
        finally:
            try:
                self.platform.calls.add(describe(self.callers, scope, bytes(received), answer["status"],
                                                 b"".join(sent)[:MAX_COPY]))
            except Exception:  # noqa: BLE001 - the console's window must never break a call
                pass


def _is_contract(scope: Scope) -> bool:
    query = scope.get("query_string", b"").lower()
    return scope.get("method") == "GET" and (query == b"wsdl" or query.startswith(b"wsdl&") or b"&wsdl" in query)


# ---------------------------------------------------------------- reading a call


class Callers:
    """Names for who called: a persona's key, ``org-NIHII``, or what the request says."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self._personas: dict[str, str] | None = None

    def person(self, niss: str) -> str:
        if self._personas is None:
            from gateway.ehealth.sandbox.personas import personas

            self._personas = {p.niss: p.key for p in personas(self.platform.registries).values()}
        current = self.platform.registries.current_niss(niss) or niss
        return self._personas.get(current, f"SSIN={niss}")

    def client(self, client_id: str) -> str:
        """A client id of the IdP (``ssin-…``, ``cbe-…``, a public app's name)."""
        if client_id.startswith("ssin-"):
            return self.person(client_id.removeprefix("ssin-"))
        if client_id.startswith("cbe-"):
            organisation = self.platform.registries.organisation_by_cbe(client_id.removeprefix("cbe-"))
            return f"org-{organisation.nihii}" if organisation else client_id
        return client_id

    def subject(self, subject: object) -> str:
        """An access token's ``sub``: a NISS, or an organisation's client id."""
        text = str(subject)
        return self.client(text if text.startswith("cbe-") else f"ssin-{text}")

    def certificate_holder(self, certificate: x509.Certificate) -> str:
        from gateway.ehealth.pki import subject_identifier

        kind, ident = subject_identifier(certificate)
        if kind == "SSIN":
            return self.person(ident)
        registries = self.platform.registries
        organisation = registries.organisation_by_cbe(ident) if kind == "CBE" else registries.organisation(ident)
        return f"org-{organisation.nihii}" if organisation else f"{kind}={ident}"


def describe(callers: Callers, scope: Scope, request: bytes, status: int, body: bytes) -> CallRecord:
    path: str = scope.get("path", "")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    service = path.removeprefix("/ehealth/") if path.startswith("/ehealth/") else path.lstrip("/")
    method = scope.get("method", "GET")
    content_type = headers.get("content-type", "")
    if "xml" in content_type and method == "POST":
        operation, caller = _soap_request(callers, request, headers)
        outcome, code = _soap_answer(status, body)
    else:
        form = parse_qs(request.decode("utf-8", "replace")) if "form-urlencoded" in content_type else {}
        operation = _short((form.get("grant_type") or [""])[0]) or method
        caller = _http_caller(callers, form, headers, status, body)
        outcome, code = _http_answer(status, body)
    return CallRecord(callers.platform.clock.now(), method, service, operation, caller, outcome, status, code)


def _short(uri: str) -> str:
    """The last word of a URI or URN (``…:token-exchange`` → ``token-exchange``)."""
    for separator in ("#", "/", ":"):
        uri = uri.rsplit(separator, 1)[-1]
    return uri


def _parse(data: bytes) -> etree._Element | None:
    from gateway.identity.xml import UnsafeXml, parse_untrusted

    try:
        return parse_untrusted(data)
    except (UnsafeXml, ValueError, etree.XMLSyntaxError):
        return None


def _soap_request(callers: Callers, data: bytes, headers: dict[str, str]) -> tuple[str, str]:
    root = _parse(data)
    action = headers.get("soapaction", "").strip('"')
    operation = _short(action) if action else ""
    if root is None:
        return operation or "?", "unknown"
    body = root.find(f"{{{SOAP11_NS}}}Body")
    if not operation and body is not None and len(body):
        operation = etree.QName(body[0]).localname
    certificate = None
    for element in root.iter(f"{{{WSSE_NS}}}BinarySecurityToken", f"{{{DS_NS}}}X509Certificate"):
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode("".join((element.text or "").split())))
            break
        except ValueError:
            continue
    return operation or "?", callers.certificate_holder(certificate) if certificate is not None else "anonymous"


def _unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: only to say who the platform answered."""
    import jwt

    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        return {}


def _http_caller(callers: Callers, form: dict[str, list[str]], headers: dict[str, str], status: int,
                 body: bytes) -> str:
    if status == 200 and body[:1] == b"{":  # a token endpoint's answer: to whom the token was issued
        try:
            issued = json.loads(body).get("access_token")
        except (ValueError, AttributeError):
            issued = None
        subject = _unverified_claims(issued).get("sub") if isinstance(issued, str) else None
        if subject:
            return callers.subject(subject)
    if form.get("persona"):
        return form["persona"][0]  # the sandbox login page
    assertion = (form.get("client_assertion") or [""])[0]
    if assertion:
        return callers.client(str(_unverified_claims(assertion).get("iss", "")))
    if form.get("client_id"):
        return form["client_id"][0]
    bearer = headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        subject = _unverified_claims(bearer[7:].strip()).get("sub")
        if subject:
            return callers.subject(subject)
    return "anonymous"


def _soap_answer(status: int, body: bytes) -> tuple[str, str | None]:
    root = _parse(body) if body else None
    if root is None:
        return ("answered", None) if status < 400 else ("fault", f"HTTP {status}")
    fault = root.find(f".//{{{SOAP11_NS}}}Fault")
    if fault is not None:
        return "fault", root.findtext(f".//{{{FAULT_NS}}}Code") or fault.findtext("faultcode") or "fault"
    codes = [c.get("Value", "") for c in root.iter(f"{{{SAMLP2_NS}}}StatusCode")]
    if codes and codes[0] != SAML2_SUCCESS:  # the attribute authority answers a refusal inside its Response
        return "refused", _short(codes[-1])
    return ("answered", None) if status < 400 else ("fault", f"HTTP {status}")


def _http_answer(status: int, body: bytes) -> tuple[str, str | None]:
    if status < 400:
        return "answered", None
    try:
        error = json.loads(body)
    except ValueError:
        error = None
    if isinstance(error, dict):
        code = error.get("error") or error.get("detail")
        return "refused", str(code)[:200] if code else f"HTTP {status}"
    return "refused", f"HTTP {status}"
