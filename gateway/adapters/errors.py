"""The platform's failures, as the domain's :class:`SourceUnavailable`.

Every way a call to the platform can go wrong has one stable code; the
message names the service and its URL and says what to do. The act that
needed the fact is refused as a whole (audited, HTTP 503 on the FHIR face,
a Server fault on SOAP): a missing answer is never read as "no link", "no
membership" or "unknown person".
"""

from __future__ import annotations

from gateway.domain.ports import SourceUnavailable

UNREACHABLE = "platform-unreachable"  # no answer: connection refused, DNS, TLS, or the timeout ran out
HTTP_ERROR = "platform-http-error"  # an HTTP status with no SOAP answer (404, 502, 503, an HTML error page...)
FAULT = "platform-fault"  # a SOAP Fault: the service refused this call (often: our credential or request)
ANSWER_INVALID = "platform-answer-invalid"  # unreadable, another element, or the answer to another request
SIGNATURE_INVALID = "platform-signature-invalid"  # unsigned, tampered with, or signed by a key we do not trust
REFUSED = "platform-refused"  # a well-formed answer whose status is neither success nor "nothing found"

CODES = (UNREACHABLE, HTTP_ERROR, FAULT, ANSWER_INVALID, SIGNATURE_INVALID, REFUSED)

_ADVICE = {
    UNREACHABLE: "Retry in a moment; if it lasts, the gateway's operator checks the platform's URL, the network and TLS.",
    HTTP_ERROR: "Retry in a moment; if it lasts, the gateway's operator checks the platform's URL and service paths.",
    FAULT: "The gateway's operator checks its credential and the platform's settings.",
    ANSWER_INVALID: "The gateway's operator checks that the URL points at the right service.",
    SIGNATURE_INVALID: "The answer was not believed; the gateway's operator checks the platform certificates it trusts.",
    REFUSED: "The gateway's operator checks the request the gateway made and the platform's settings.",
}


class PlatformError(SourceUnavailable):
    """One failed call to one of the platform's services."""

    def __init__(self, code: str, message: str, *, service: str, url: str | None = None) -> None:
        where = f"{service} ({url})" if url else service
        super().__init__(code, f"{where}: {message} {_ADVICE.get(code, '')}".strip(),
                         details={"service": service, "url": url})
        self.service = service
        self.url = url
        self.reason = message
