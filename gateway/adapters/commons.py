"""What the AddressBook and consultRN messages share (eHealth commons):
a request carries an ``Id`` and an ``IssueInstant``; the answer names the
request it answers (``InResponseTo``) and says ``Success`` or
``DataNotFound`` in its ``Status``, anything else being a refusal."""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from gateway.adapters import errors
from gateway.adapters.soap import SoapClient
from gateway.identity.xmldsig import xml_datetime

STATUS_SUCCESS = "urn:be:fgov:ehealth:2.0:status:Success"
STATUS_DATA_NOT_FOUND = "urn:be:fgov:ehealth:2.0:status:DataNotFound"


def request(tag: str, now: datetime, **attributes: str) -> etree._Element:
    """An empty request element with a fresh ``Id`` and ``IssueInstant``."""
    return etree.Element(tag, Id=f"_{uuid.uuid4().hex}", IssueInstant=xml_datetime(now), **attributes)


def child(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def found(soap: SoapClient, answer: etree._Element, expected: str, request_id: str, core_ns: str) -> bool:
    """Whether ``answer`` (which must be ``expected``, answering ``request_id``,
    its Status in ``core_ns``) found something; a PlatformError if it is
    another answer or a refusal."""
    if answer.tag != expected:
        raise soap.error(errors.ANSWER_INVALID, f"answered {etree.QName(answer).localname}, not "
                         f"{etree.QName(expected).localname}.")
    if answer.get("InResponseTo") != request_id:
        raise soap.error(errors.ANSWER_INVALID, "answered another request (InResponseTo).")
    code = answer.find(f"{{{core_ns}}}Status/{{{core_ns}}}StatusCode")
    value = code.get("Value") if code is not None else None
    if value == STATUS_SUCCESS:
        return True
    if value == STATUS_DATA_NOT_FOUND:
        return False
    message = answer.findtext(f"{{{core_ns}}}Status/{{{core_ns}}}StatusMessage") or ""
    raise soap.error(errors.REFUSED, f"answered with status {value or 'none'}: {message}".rstrip(": "))
