"""Signed envelopes made by hand and then broken on purpose, for what no
honest client sends: the security negatives a target must refuse.

Mutations:
    none               signed as a client signs (a control)
    unsigned           no wsse:Security at all
    tamper-body        signed, then the payload changed (``tamper``: xpath + text)
    replay             the very same signed bytes sent twice
    wrap-body          signed, then the signed Body moved into a header element and
                       another Body (``wrap-payload``) put where the server reads it
    wrong-key          the persona's token, the message signed with ``signer``'s key
    expired-token      signed with a named token that has expired (see ``wait``)
    expired-timestamp  signed with a clock set ``backdate`` (default 10m) back
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import httpx
from lxml import etree

from gateway.conformance.suites.actions import ActionError, Context
from gateway.conformance.suites.actions.soap import soap_action
from gateway.conformance.suites.loader import seconds
from gateway.conformance.suites.model import Exchange
from gateway.identity.xml import UnsafeXml, parse_untrusted

from gateway.namespaces import SOAP11_NS as SOAP11
WRAPPER = "{urn:care-gateway:conformance:wrapper}Wrapper"


class _Backdated:
    """A clock ``delta`` behind another."""

    def __init__(self, clock: Any, delta: timedelta) -> None:
        self.clock, self.delta = clock, delta

    def now(self) -> datetime:
        return self.clock.now() - self.delta  # type: ignore[no-any-return]

    def today(self) -> Any:
        return self.now().date()


def _payload(spec: dict[str, Any], key: str, ctx: Context) -> etree._Element:
    text = spec[key]
    assert ctx.suite is not None
    if text in ctx.suite.fixtures:
        text = ctx.fixture(text)
    try:
        return parse_untrusted(str(text).strip().encode("utf-8"), remove_blank_text=True)
    except UnsafeXml as error:
        raise ActionError(f"{key} is not usable XML: {error.message}") from None


def envelope(payload: etree._Element) -> etree._Element:
    root = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    etree.SubElement(root, f"{{{SOAP11}}}Body").append(payload)
    return root


def _sign(root: etree._Element, ctx: Context, persona: str, *, token: str | None = None, signer: str | None = None,
          clock: Any = None) -> etree._Element:
    from gateway.identity.signing import sign_with_saml

    named = ctx.tokens.token(token) if token else None
    assertion = bytes(named.value) if named else ctx.tokens.saml(persona)  # type: ignore[arg-type]
    credential = ctx.tokens.credential(signer or (named.persona if named else persona))
    return sign_with_saml(root, assertion, credential.private_key, credential.certificate, clock=clock or ctx.clock)


def build(spec: dict[str, Any], ctx: Context) -> bytes:
    """The bytes to send for this step's mutation."""
    mutation = spec["mutation"]
    persona = spec.get("persona")
    root = envelope(_payload(spec, "payload", ctx))
    if mutation == "unsigned":
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if not persona and not spec.get("token"):
        raise ActionError(f"mutation {mutation} signs: give a persona (or a token)")
    token = spec.get("token")
    if mutation == "expired-token":
        if not token:
            raise ActionError("expired-token needs token: a named token of the suite, and a wait step before")
        expires = ctx.tokens.token(token).expires
        if expires is None or expires > ctx.clock.now():
            raise ActionError(f"token {token} has not expired yet (NotOnOrAfter {expires}): add a wait step before this one")
    if mutation == "wrong-key" and not spec.get("signer"):
        raise ActionError("wrong-key needs signer: the persona whose key signs instead")
    clock = _Backdated(ctx.clock, timedelta(seconds=seconds(spec.get("backdate", "10m")))) if mutation == "expired-timestamp" else None
    signed = _sign(root, ctx, persona or "", token=token, signer=spec.get("signer") if mutation == "wrong-key" else None, clock=clock)
    if mutation == "tamper-body":
        _tamper(signed, spec, ctx)
    elif mutation == "wrap-body":
        _wrap(signed, spec, ctx)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _tamper(root: etree._Element, spec: dict[str, Any], ctx: Context) -> None:
    assert ctx.suite is not None
    tamper = spec.get("tamper")
    body = root.find(f"{{{SOAP11}}}Body")
    if tamper:
        found = body.xpath(tamper["xpath"], namespaces=ctx.suite.namespaces)  # type: ignore[union-attr]
        if not found or not isinstance(found[0], etree._Element):
            raise ActionError(f"tamper: {tamper['xpath']} finds no element in the payload")
        found[0].text = tamper["text"]
        return
    leaf = next((e for e in body.iter() if len(e) == 0 and (e.text or "").strip()), None)  # type: ignore[union-attr]
    if leaf is None:
        raise ActionError("tamper-body: the payload has no text to change; give tamper: {xpath, text}")
    leaf.text = (leaf.text or "") + " "


def _wrap(root: etree._Element, spec: dict[str, Any], ctx: Context) -> None:
    body = root.find(f"{{{SOAP11}}}Body")
    header = root.find(f"{{{SOAP11}}}Header")
    assert body is not None and header is not None
    replacement = _payload(spec, "wrap-payload", ctx) if spec.get("wrap-payload") else copy.deepcopy(body[0])
    etree.SubElement(header, WRAPPER).append(body)  # the signed Body, still signed, where no one reads it
    etree.SubElement(root, f"{{{SOAP11}}}Body").append(replacement)


def run_soap_raw(spec: dict[str, Any], ctx: Context) -> Exchange:
    url = ctx.url(spec["service"])
    action = spec.get("action") or soap_action(ctx, ctx.url(spec["service"] + "?wsdl"), spec["operation"])
    data = build(spec, ctx)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}

    def send() -> Exchange:
        exchange = Exchange("POST", url, dict(headers), data.decode("utf-8"))
        try:
            response = ctx.http.post(url, content=data, headers=headers)
        except httpx.HTTPError as error:
            raise ActionError(f"no answer from {url}: {error}") from None
        exchange.status = response.status_code
        exchange.response_headers = dict(response.headers)
        exchange.response_body = response.text
        return exchange

    if spec["mutation"] == "replay":
        first = send()
        second = send()
        second.first = first
        second.note = f"the same signed bytes were sent twice; the first sending was answered {first.status}"
        return second
    return send()
