"""A SOAP call made with zeep from the target's own ``?wsdl``, signed as the
persona with its STS token (SAML holder-of-key), the way a vendor's
connector calls. The wire request and answer are recorded for the asserts
and the reports; a Fault is an answer like any other (asserts judge it)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from gateway.conformance.suites.actions import ActionError, Context
from gateway.conformance.suites.model import Exchange

NIL = "$nil"  # an argument sent as xsi:nil="true"


class RecordingTransport(Transport):
    """zeep over httpx, keeping the last request and answer as sent and received."""

    def __init__(self, client: httpx.Client) -> None:
        self.cache = None
        self.load_timeout = self.operation_timeout = None
        self.client = client
        self.logger = logging.getLogger(__name__)
        self._close_session = False
        self.last: Exchange | None = None

    def get(self, address: str, params: Any, headers: Any) -> httpx.Response:
        return self.client.get(address, params=params, headers=headers)

    def post(self, address: str, message: bytes, headers: Any) -> httpx.Response:
        sent = {k: str(v) for k, v in headers.items()}
        self.last = Exchange("POST", address, sent, message.decode("utf-8", "replace"))
        response = self.client.post(address, content=message, headers=sent)
        self.last.status = response.status_code
        self.last.response_headers = dict(response.headers)
        self.last.response_body = response.text
        return response

    def _load_remote_data(self, url: str) -> bytes:
        response = self.client.get(url)
        if response.status_code != 200:
            raise ActionError(f"the WSDL {url} answered {response.status_code}")
        return response.content

    def __del__(self) -> None:  # the run owns the httpx client
        pass


def wsdl_url(spec: dict[str, Any], ctx: Context) -> str:
    return ctx.url(spec.get("wsdl") or spec["service"] + "?wsdl")


def client(ctx: Context, wsdl: str, persona: str | None, token: str | None) -> tuple[zeep.Client, RecordingTransport]:
    """A zeep client for this WSDL signing as ``persona`` (cached for the run)."""
    key = ("zeep", wsdl, persona, token)
    if key not in ctx.cache:
        from gateway.identity.zeep_wsse import SamlHolderOfKey

        transport = RecordingTransport(ctx.http)
        wsse = None
        if persona or token:
            named = ctx.tokens.token(token) if token else None
            signer = named.persona if named else persona
            assertion = bytes(named.value) if named else ctx.tokens.saml(signer)  # type: ignore[arg-type]
            credential = ctx.tokens.credential(signer)  # type: ignore[arg-type]
            wsse = SamlHolderOfKey(assertion, credential.private_key, credential.certificate, clock=ctx.clock)
        try:
            ctx.cache[key] = (zeep.Client(wsdl, transport=transport, wsse=wsse), transport)
        except (zeep.exceptions.Error, etree.XMLSyntaxError, httpx.HTTPError) as error:
            raise ActionError(f"cannot read the WSDL {wsdl}: {error}") from None
    return ctx.cache[key]  # type: ignore[no-any-return]


def _binding(zeep_client: zeep.Client, operation: str) -> Any:
    for binding in zeep_client.wsdl.bindings.values():
        if operation in binding._operations:
            return binding
    raise ActionError(f"the WSDL has no operation {operation!r}")


def soap_action(ctx: Context, wsdl: str, operation: str) -> str:
    """The WSDL's SOAPAction for ``operation``."""
    zeep_client, _ = client(ctx, wsdl, None, None)
    return str(_binding(zeep_client, operation)._operations[operation].soapaction or "")


def _arguments(value: Any) -> Any:
    if value == NIL:
        return zeep.xsd.Nil
    if isinstance(value, dict):
        return {k: _arguments(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arguments(v) for v in value]
    return value


def run_soap(spec: dict[str, Any], ctx: Context) -> Exchange:
    wsdl = wsdl_url(spec, ctx)
    zeep_client, transport = client(ctx, wsdl, spec.get("persona"), spec.get("token"))
    binding = _binding(zeep_client, spec["operation"])
    service = zeep_client.create_service(binding.name, ctx.url(spec["service"]))  # always the target, whatever soap:address says
    transport.last = None
    note = ""
    try:
        getattr(service, spec["operation"])(**_arguments(spec.get("arguments") or {}))
    except zeep.exceptions.Fault:
        pass  # a refusal: the asserts read it from the answer
    except (TypeError, zeep.exceptions.ValidationError) as error:
        if transport.last is None:
            raise ActionError(f"the arguments do not fit {spec['operation']} in the WSDL: {error}") from None
        note = f"zeep could not read the answer against the WSDL: {error}"
    except (zeep.exceptions.Error, etree.XMLSyntaxError) as error:
        note = f"zeep could not read the answer: {error}"
    except httpx.HTTPError as error:
        raise ActionError(f"no answer from {ctx.url(spec['service'])}: {error}") from None
    if transport.last is None:
        raise ActionError(f"zeep sent nothing for {spec['operation']}")
    exchange = transport.last
    exchange.note = note
    return exchange
