"""A corpus of hostile inputs: what an attacker sends to break a parser.

JSON edge cases (nesting, numbers, strings, shapes), XML in every encoding
with DOCTYPEs and entities, odd ids, search values, headers and dates. The
tests replay each against every parser of the gateway; none may produce a
5xx."""

from __future__ import annotations

import json
from datetime import date
from typing import Iterator

INCLUSION = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"


def episode(patient: str, psi: str, start: str = "2026-01-10", end: str | None = None) -> dict:
    period = {"start": start} | ({"end": end} if end else {})
    return {
        "resourceType": "EpisodeOfCare", "meta": {"profile": [INCLUSION]}, "status": "active",
        "extension": [{"url": "https://care-gateway.be/fhir/StructureDefinition/research-consent", "extension": [
            {"url": "decision", "valueCode": "permit"}, {"url": "date", "valueDate": "2026-01-10"}]}],
        "type": [{"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/inclusion-status", "code": "information"}]}],
        "patient": {"identifier": {"system": SSIN, "value": patient}},
        "managingOrganization": {"identifier": {"system": NIHDI, "value": psi}},
        "period": period,
    }


def with_nested_extensions(resource: dict, levels: int) -> bytes:
    """``resource`` with one extension nesting ``levels`` extensions (written as
    text: a JSON encoder would itself run out of recursion)."""
    inner = '{"url":"x","extension":[' * levels + '{"url":"x","valueString":"deep"}' + "]}" * levels
    return (json.dumps(resource)[:-1] + ',"extension":[' + inner + "]}").encode()


def json_bodies(patient: str, psi: str) -> Iterator[tuple[str, bytes]]:
    """(name, body) of JSON a client may send to a FHIR write or to the validator."""
    base = episode(patient, psi)
    yield "deep arrays", b"[" * 100_000 + b"]" * 100_000
    yield "deep objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    yield "deep arrays in a resource", json.dumps(base)[:-1].encode() + b',"x":' + b"[" * 3000 + b"]" * 3000 + b"}"
    plain = {k: v for k, v in base.items() if k != "extension"}
    yield "nested extensions 900", with_nested_extensions(plain, 900)
    yield "nested extensions 30", with_nested_extensions(plain, 30)
    yield "huge integer", json.dumps(base)[:-1].encode() + b',"x":' + b"9" * 50_000 + b"}"
    yield "huge exponent", json.dumps(base)[:-1].encode() + b',"x":1e999999}'
    yield "NaN and Infinity", json.dumps(base)[:-1].encode() + b',"x":[NaN,Infinity,-Infinity]}'
    yield "lone surrogate in a value", json.dumps(base).replace('"active"', '"\\ud800"').encode()
    yield "lone surrogate in a key", json.dumps(base)[:-1].encode() + b',"\\udfff":1}'
    yield "lone surrogate in the patient", json.dumps(episode("\ud800" + patient, psi)).encode("utf-8", "surrogatepass")
    yield "invalid UTF-8", json.dumps(base).encode().replace(b"active", b"act\xff\xfeve")
    yield "UTF-16 JSON", json.dumps(base).encode("utf-16")
    yield "BOM", b"\xef\xbb\xbf" + json.dumps(base).encode()
    yield "NUL in a string", json.dumps(base).replace("active", "act\u0000ive").encode()
    yield "duplicate keys", b'{"resourceType":"EpisodeOfCare","resourceType":"Patient"}'
    yield "not an object", b"[]"
    yield "a string", b'"EpisodeOfCare"'
    yield "null", b"null"
    yield "resourceType a number", b'{"resourceType":12}'
    yield "resourceType an object", b'{"resourceType":{"a":1}}'
    yield "resourceType a path", b'{"resourceType":"../../etc/passwd"}'
    yield "resourceType huge", json.dumps({"resourceType": "A" * 100_000}).encode()
    yield "empty", b""
    yield "whitespace", b"   \n"
    yield "truncated", json.dumps(base).encode()[:-7]
    yield "wrong types", json.dumps(base | {"period": "2026", "type": {"a": 1}, "patient": [1, 2], "meta": 3}).encode()
    yield "types of every kind", json.dumps(base | {"extension": [1, "x", None, True, [], {}]}).encode()
    yield "year 9999", json.dumps(episode(patient, psi, start="9999-12-20")).encode()
    yield "year 9999 end", json.dumps(episode(patient, psi, end="9999-12-31")).encode()
    yield "year 0001", json.dumps(episode(patient, psi, start="0001-01-01")).encode()
    yield "year 10000", json.dumps(episode(patient, psi, start="10000-01-01")).encode()
    yield "date 2026-02-30", json.dumps(episode(patient, psi, start="2026-02-30")).encode()
    yield "a huge id", json.dumps(base | {"id": "9" * 5000}).encode()
    yield "an id with a NUL", json.dumps(base | {"id": "a\u0000b"}).encode()
    yield "many entries of nothing", json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [None] * 50}).encode()


def bundle_bodies(patient: str, psi: str) -> Iterator[tuple[str, bytes]]:
    """Batch and transaction Bundles of odd shapes."""
    good = episode(patient, psi)
    for kind in ("batch", "transaction"):
        yield f"{kind}: entries not objects", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [1, "x", None, []]}).encode()
        yield f"{kind}: entry a string", json.dumps({"resourceType": "Bundle", "type": kind, "entry": "x"}).encode()
        yield f"{kind}: url a number", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"request": {"method": "POST", "url": 12}, "resource": good}]}).encode()
        yield f"{kind}: request a list", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [{"request": [1]}]}).encode()
        yield f"{kind}: resource a string", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"request": {"method": "POST", "url": "EpisodeOfCare"}, "resource": "x"}]}).encode()
        yield f"{kind}: GET with odd ids", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"request": {"method": "GET", "url": u}} for u in ("EpisodeOfCare/" + "9" * 300, "Consent/%ED%A0%80",
                                                               "AuditEvent?_cursor=" + "9" * 40, "EpisodeOfCare?_count=²",
                                                               "Nope/1", "/", "EpisodeOfCare/x/y/z")]}).encode()
        yield f"{kind}: fullUrl a number", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"fullUrl": 5, "request": {"method": "POST", "url": "EpisodeOfCare"}, "resource": good}]}).encode()
        yield f"{kind}: ifMatch odd", json.dumps({"resourceType": "Bundle", "type": kind, "entry": [
            {"request": {"method": "PUT", "url": "EpisodeOfCare/x", "ifMatch": 3}, "resource": good}]}).encode()
    yield "type missing", b'{"resourceType":"Bundle"}'
    yield "type a list", b'{"resourceType":"Bundle","type":["batch"]}'


def validate_parameters() -> Iterator[tuple[str, bytes]]:
    """Bodies of POST [type]/$validate."""
    yield "parameter not a list", b'{"resourceType":"Parameters","parameter":"x"}'
    yield "parameter of numbers", b'{"resourceType":"Parameters","parameter":[1,2]}'
    yield "resource a string", b'{"resourceType":"Parameters","parameter":[{"name":"resource","resource":"x"}]}'
    yield "profile a number", b'{"resourceType":"Parameters","parameter":[{"name":"profile","valueUri":5}]}'
    yield "profile unknown", b'{"resourceType":"Parameters","parameter":[{"name":"profile","valueUri":"http://x"}]}'


IDS = ["9" * 300, "99999999999999999999999", "²", "٣", "..", "a" * 70, "%00", "%ED%A0%80", "%FF%FE", "x%2Fy",
       "-1", "0", "task-", "task-%00", "x-v²", "x-v99999999999999999999", "-v1"]

SEARCHES = {
    "EpisodeOfCare": ["_count=²", "_count=99999999999999999999999", "_count=-1", "_count=1e3", "_cursor=%FF",
                      "_cursor=" + "z" * 500, "date=9999-12-31", "date=ge0001-01-01", "date=lt10000", "date=2026-13-01",
                      "date=2026-02-30T25:61:00Z", "date=2026-01-01T10:00:00+99:99", "_lastUpdated=gt9999-12-31T23:59:59Z",
                      "patient-identifier=%ED%A0%80", "patient-identifier=|", "patient-identifier=" + "1" * 5000,
                      "psi=" + "9" * 5000, "type=%00", "status=", "_revinclude=Provenance:target&patient-identifier=00000000000",
                      "_include=*", "_summary=count", "_format=%FF", "_sort=-date", "unknown%00=1"],
    "Consent": ["patient-identifier=00000000097&_cursor=99999999999999999999999", "_cursor=²&patient-identifier=x"],
    "CareTeam": ["patient-identifier=x", "_cursor=99999999999999999999999&patient-identifier=00000000097", "_cursor=²"],
    "ServiceRequest": ["patient-identifier=" + "9" * 20, "_cursor=²"],
    "Task": ["patient-identifier=x", "_cursor=²", "focus=ServiceRequest/" + "9" * 200],
    "AuditEvent": ["_cursor=99999999999999999999999", "_cursor=²", "_cursor=-1", "patient=Patient/%ED%A0%80",
                   "patient=Patient/" + "A" * 500, "agent-identifier=x"],
    "Provenance": ["target=EpisodeOfCare/x/_history/99999999999999999999", "target=EpisodeOfCare/x/_history/²",
                   "target=" + "A" * 500, "_cursor=²&target=EpisodeOfCare/x"],
    "Patient": ["identifier=%ED%A0%80", "identifier=" + SSIN + "|" + "9" * 30, "_cursor=²"],
    "Practitioner": ["name=" + "a" * 5000, "_cursor=99999999999999999999999", "_cursor=²", "identifier=%00"],
    "Organization": ["name=%00", "_cursor=²", "type=%FF"],
    "PractitionerRole": ["_cursor=²", "specialty=" + "x" * 1000],
}

HEADERS: list[dict[str, str | bytes]] = [  # bytes: what a raw client sends beyond ASCII
    {"If-Match": 'W/"99999999999999999999999"'}, {"If-Match": 'W/"\xb2"'.encode("latin-1")}, {"If-Match": "x" * 5000},
    {"Accept": "application/fhir+xml;q=0.9, */*;q=" + "9" * 500}, {"Accept": b"\xff\xfe"}, {"Prefer": "return=" + "x" * 3000},
    {"Content-Type": "application/fhir+json; charset=utf-16"}, {"Content-Type": "application/xml"},
    {"If-None-Exist": "patient-identifier=%ED%A0%80"}, {"If-None-Exist": "_count=\xb2".encode("latin-1")},
]


def dates() -> list[date]:
    """Dates that break naive month arithmetic."""
    return [date(9999, 12, 31), date(9999, 12, 1), date(1, 1, 1), date(2024, 2, 29)]


def xml_documents() -> Iterator[tuple[str, bytes]]:
    """XML with DOCTYPEs and entities in every encoding, and other hostile shapes."""
    decl = '<?xml version="1.0" encoding="{}"?>'
    body = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r xmlns="http://hl7.org/fhir">&b;</r>'
    for name, codec in (("UTF-8", "utf-8"), ("UTF-8", "utf-8-sig"), ("UTF-16", "utf-16"), ("UTF-16LE", "utf-16-le"),
                        ("UTF-16BE", "utf-16-be"), ("UTF-32", "utf-32"), ("UTF-32BE", "utf-32-be"), ("ISO-8859-1", "latin-1")):
        yield f"entity bomb {codec}", (decl.format(name) + body).encode(codec)
    yield "external entity", b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    yield "external DTD in UTF-16", (decl.format("UTF-16") + '<!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd"><r/>').encode("utf-16")
    escapes = {"<": "+ADw-", ">": "+AD4-", "!": "+ACE-", "[": "+AFs-", "]": "+AF0-", '"': "+ACI-", "&": "+ACY-", ";": "+ADs-"}
    yield "UTF-7", decl.format("UTF-7").encode() + "".join(escapes.get(c, c) for c in body).encode("ascii")
    yield "deep", b"<r>" * 10_000 + b"</r>" * 10_000
    yield "wide", b"<r>" + b"<a/>" * 200_000 + b"</r>"
    yield "declared UTF-16, sent UTF-8", (decl.format("UTF-16") + "<r/>").encode("utf-8")
    yield "unknown encoding", (decl.format("X-NOPE") + "<r/>").encode()
    yield "EBCDIC", (decl.format("EBCDIC-US") + "<r/>").encode("cp037")
    yield "invalid character reference", b"<r>&#0;&#xD800;</r>"
    yield "processing instruction", b'<?xml-stylesheet href="http://x"?><r/>'
    yield "huge attribute", b'<r a="' + b"x" * 1_000_000 + b'"/>'
    yield "many namespaces", b"<r " + b" ".join(b'xmlns:p%d="urn:%d"' % (i, i) for i in range(5000)) + b"/>"
    yield "not XML", b"<<<>>>"
    yield "empty", b""
