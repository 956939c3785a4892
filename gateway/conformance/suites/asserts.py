"""Judging an answer: each assert of a step gives a result with a sentence
saying why it failed (what was expected, what came), so that a report
reader knows what the target did without rerunning anything.

FHIRPath runs on the JSON answer (:class:`gateway.conformance.fhir.fhirpath.FhirPath`,
fhirpathpy with the R4 functions), XPath on the SOAP answer, profiles with
:class:`gateway.conformance.fhir.validator.FhirValidator`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from lxml import etree

from gateway.conformance.suites.model import AssertResult, Exchange
from gateway.identity.xml import UnsafeXml, parse_untrusted

from gateway.namespaces import SOAP11_NS as SOAP11
FAULT_NS = "urn:be:care-gateway:fault:v1"
KINDS = ("status", "first-status", "resource", "fhirpath", "xpath", "validates", "fault", "rule", "error",
         "fault-status", "header", "contains", "not-contains")


@lru_cache(maxsize=1)
def _fhirpath() -> Any:
    from gateway.conformance.fhir.fhirpath import FhirPath

    return FhirPath()


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Refusal:
    """What an OperationOutcome or a SOAP Fault says: rules, codes, status, text."""

    rules: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    status: str = ""
    text: str = ""

    def describe(self) -> str:
        named = ", ".join(self.rules + self.errors) or "no rule nor code"
        return f"{named}: {self.text}" if self.text else named


@dataclass
class Answer:
    """The target's answer, parsed once for every assert of the step."""

    exchange: Exchange
    namespaces: dict[str, str]

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.exchange.response_body)
        except ValueError:
            return None

    @cached_property
    def xml(self) -> etree._Element | None:
        body = self.exchange.response_body.strip()
        if not body.startswith("<"):
            return None
        try:
            return parse_untrusted(body.encode("utf-8"))  # the target's answer: no DTD, in any encoding
        except UnsafeXml:
            return None

    @cached_property
    def fault(self) -> etree._Element | None:
        return self.xml.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault") if self.xml is not None else None

    @cached_property
    def refusal(self) -> Refusal | None:
        if self.fault is not None:
            error = self.fault.find(f".//{{{FAULT_NS}}}Error")
            if error is None:
                return Refusal(text=(self.fault.findtext("faultstring") or "").strip())
            rule, code = error.findtext(f"{{{FAULT_NS}}}Rule"), error.findtext(f"{{{FAULT_NS}}}Code")
            return Refusal([rule] if rule else [], [code] if code else [], error.findtext(f"{{{FAULT_NS}}}Status") or "",
                           (error.findtext(f"{{{FAULT_NS}}}Message") or "").strip())
        data = self.json
        if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
            found = Refusal()
            for issue in data.get("issue", []):
                if issue.get("severity") not in ("error", "fatal"):
                    continue
                details = issue.get("details") or {}
                for coding in details.get("coding", []):
                    system = str(coding.get("system", ""))
                    if system.endswith("/CodeSystem/rule"):
                        found.rules.append(coding.get("code", ""))
                    elif system.endswith("/CodeSystem/error-code"):
                        found.errors.append(coding.get("code", ""))
                found.text = found.text or details.get("text") or issue.get("diagnostics") or ""
            return found
        return None

    def what_came(self) -> str:
        """A short account of the answer, for reasons."""
        status = self.exchange.status
        if self.refusal is not None:
            return f"{status} refusing with {self.refusal.describe()}"
        if isinstance(self.json, dict):
            return f"{status} with a {self.json.get('resourceType', 'JSON object')}"
        if self.xml is not None:
            body = self.xml.find(f"{{{SOAP11}}}Body")
            payload = body[0].tag.split("}")[-1] if body is not None and len(body) else etree.QName(self.xml).localname
            return f"{status} with {payload}"
        return f"{status} with {_short(self.exchange.response_body[:120]) if self.exchange.response_body else 'no body'}"


def evaluate(spec: dict[str, Any], answer: Answer) -> AssertResult:
    kind = next(k for k in KINDS if k in spec)
    label = spec.get("label") or _label(kind, spec)
    try:
        passed, reason = _CHECKS[kind](spec, answer)
    except Exception as error:  # an expression that does not parse is the suite's fault: say so
        passed, reason = False, f"could not evaluate: {type(error).__name__}: {error}"
    return AssertResult(label, passed, "" if passed else reason)


def _label(kind: str, spec: dict[str, Any]) -> str:
    value = spec[kind]
    if kind in ("fhirpath", "xpath"):
        return f"{kind} {value}" + (f" = {_short(spec['equals'])}" if "equals" in spec else "")
    if kind == "header":
        extra = " = " + _short(spec["equals"]) if "equals" in spec else " contains " + _short(spec["contains"]) if "contains" in spec else " present"
        return f"header {value}{extra}"
    if isinstance(value, bool):
        return f"{kind} {'true' if value else 'false'}"
    return f"{kind} {value if not isinstance(value, list) else ' or '.join(map(str, value))}"


def _status(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    wanted = spec["status"] if isinstance(spec["status"], list) else [spec["status"]]
    return answer.exchange.status in wanted, f"expected {' or '.join(map(str, wanted))}, got {answer.what_came()}"


def _first_status(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    first = answer.exchange.first
    if first is None:
        return False, "this step sent only once (first-status is for mutation: replay)"
    return first.status == spec["first-status"], f"the first sending was answered {first.status}, expected {spec['first-status']}"


def _resource(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    data = answer.json
    kind = data.get("resourceType") if isinstance(data, dict) else None
    return kind == spec["resource"], f"expected a {spec['resource']}, got {answer.what_came()}"


def _fhirpath_check(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    if not isinstance(answer.json, dict):
        return False, f"the answer is not FHIR JSON ({answer.what_came()})"
    result = _fhirpath().evaluate(answer.json, spec["fhirpath"])
    return _compare(result, spec, "FHIRPath")


def _compare(result: list[Any], spec: dict[str, Any], language: str) -> tuple[bool, str]:
    if "equals" in spec:
        wanted = spec["equals"] if isinstance(spec["equals"], list) else [spec["equals"]]
        same = len(result) == len(wanted) and all(_same(a, b) for a, b in zip(result, wanted))
        return same, f"{language} gave {_short(result)}, expected {_short(wanted)}"
    return result == [True], f"{language} gave {_short(result) if result else '[] (nothing)'}, expected true"


def _same(got: Any, wanted: Any) -> bool:
    if isinstance(got, bool) or isinstance(wanted, bool):
        return got is wanted or str(got).lower() == str(wanted).lower()
    if isinstance(got, float) and got.is_integer():
        got = int(got)
    return got == wanted or str(got) == str(wanted)


def _xpath_check(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    if answer.xml is None:
        return False, f"the answer is not XML ({answer.what_came()})"
    raw = answer.xml.xpath(spec["xpath"], namespaces=answer.namespaces)
    if isinstance(raw, list):
        result = [node.text if isinstance(node, etree._Element) else str(node) for node in raw]
        if "equals" not in spec:
            return bool(raw), f"XPath found nothing ({answer.what_came()})"
    else:
        result = [int(raw) if isinstance(raw, float) and raw.is_integer() else raw]
    return _compare(result, spec, "XPath")


def _validates(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    from gateway.conformance.fhir.validator import FhirValidator

    if not isinstance(answer.json, dict):
        return False, f"the answer is not FHIR JSON ({answer.what_came()})"
    profile = spec["validates"] if isinstance(spec["validates"], str) else None
    result = FhirValidator.default().validate(answer.json, profile=profile)
    errors = [f"{i.rule} at {i.expression}: {i.message}" for i in result.errors[:3]]
    more = f" (and {len(result.errors) - 3} more)" if len(result.errors) > 3 else ""
    return result.valid, f"not valid against {profile or 'its meta.profile'}: " + "; ".join(errors) + more


def _fault(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    is_fault = answer.fault is not None
    if spec["fault"]:
        return is_fault, f"expected a SOAP Fault, got {answer.what_came()}"
    return not is_fault, f"expected no Fault, got {answer.what_came()}"


def _rule(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    refusal = answer.refusal
    if refusal is None:
        return False, f"expected a refusal naming rule {spec['rule']}, got {answer.what_came()}"
    if not refusal.rules:
        return False, f"the refusal names no rule (expected {spec['rule']}): {refusal.describe()}"
    return spec["rule"] in refusal.rules, f"the refusal names rule {', '.join(refusal.rules)}, expected {spec['rule']}"


def _error(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    wanted = spec["error"] if isinstance(spec["error"], list) else [spec["error"]]
    refusal = answer.refusal
    if refusal is None:
        return False, f"expected a refusal with code {' or '.join(wanted)}, got {answer.what_came()}"
    return any(w in refusal.errors for w in wanted), (
        f"the refusal's code is {', '.join(refusal.errors) or 'missing'}, expected {' or '.join(wanted)} ({refusal.text})")


def _fault_status(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    refusal = answer.refusal
    if refusal is None or answer.fault is None:
        return False, f"expected a SOAP Fault with status {spec['fault-status']}, got {answer.what_came()}"
    return refusal.status.endswith(spec["fault-status"]), f"the Fault's status is {refusal.status or 'missing'}, expected …{spec['fault-status']}"


def _header(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    headers = {k.lower(): v for k, v in answer.exchange.response_headers.items()}
    value = headers.get(spec["header"].lower())
    if value is None:
        return False, f"the answer has no {spec['header']} header ({answer.what_came()})"
    if "equals" in spec:
        return value == str(spec["equals"]), f"{spec['header']} is {value!r}, expected {str(spec['equals'])!r}"
    if "contains" in spec:
        return str(spec["contains"]) in value, f"{spec['header']} is {value!r}, expected it to contain {str(spec['contains'])!r}"
    return True, ""


def _contains(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    return str(spec["contains"]) in answer.exchange.response_body, f"the answer does not contain {spec['contains']!r} ({answer.what_came()})"


def _not_contains(spec: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    text = str(spec["not-contains"])
    body = answer.exchange.response_body
    if text not in body:
        return True, ""
    at = body.index(text)
    return False, f"the answer reveals {text!r}: …{body[max(0, at - 60):at + len(text) + 20]}…"


_CHECKS = {
    "status": _status, "first-status": _first_status, "resource": _resource, "fhirpath": _fhirpath_check,
    "xpath": _xpath_check, "validates": _validates, "fault": _fault, "rule": _rule, "error": _error,
    "fault-status": _fault_status, "header": _header, "contains": _contains, "not-contains": _not_contains,
}


def capture(expression: str, answer: Answer) -> Any:
    """A ``save`` value: ``header:NAME``, else FHIRPath on JSON or XPath on XML; the first item."""
    if expression.startswith("header:"):
        name = expression.split(":", 1)[1].strip().lower()
        return {k.lower(): v for k, v in answer.exchange.response_headers.items()}.get(name)
    if isinstance(answer.json, (dict, list)):
        found = _fhirpath().evaluate(answer.json, expression)
        return found[0] if found else None
    if answer.xml is not None:
        raw = answer.xml.xpath(expression, namespaces=answer.namespaces)
        if isinstance(raw, list):
            if not raw:
                return None
            first = raw[0]
            return first.text if isinstance(first, etree._Element) else str(first)
        return int(raw) if isinstance(raw, float) and raw.is_integer() else raw
    return None
