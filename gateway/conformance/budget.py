"""Bounded work for the unauthenticated validator (``POST /conformance/validate``).

Validating costs CPU in proportion to what is sent (a 10 MB Bundle took
about 30 s), and anyone may call the endpoint. So each request is held to
limits before the validator sees it: its size, how many Bundle entries and
how many JSON values or XML elements it holds and how deep they nest; a
caller waits at most a time budget for the verdict; and at most a few
validations run at once, one per client. What is refused is answered 413
(too costly) or 429 (come back later), with an OperationOutcome.

A validation that outlives the time budget cannot be stopped (it runs in a
thread), so it keeps its slot until it ends: the number of validations
running at once stays bounded whatever the callers do.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gateway.identity.xml import UnsafeXml, parse_untrusted

from gateway.namespaces import FHIR_NS
MAX_DEPTH = 64  # FHIR resources nest a few dozen levels at most
MAX_NODES = 20_000  # JSON values: a large real Bundle holds a few thousand
MAX_XML_ELEMENTS = 5_000  # reading FHIR XML costs more per element than JSON (grows faster than linearly)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_entries: int
    time_budget: float  # seconds a caller waits for a verdict
    concurrency: int  # validations at once, all clients together
    per_client: int = 1
    max_nodes: int = MAX_NODES
    max_xml_elements: int = MAX_XML_ELEMENTS
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_settings(cls, settings: Any) -> "Limits":
        return cls(settings.validate_max_bytes, settings.validate_max_entries, settings.validate_time_budget,
                   max(1, settings.validate_concurrency))


class TooCostly(Exception):
    """The message is larger than the validator takes (413)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Slots:
    """Who is validating now: at most ``concurrency`` validations, ``per_client`` each."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._running = 0
        self._by_client: Counter[str] = Counter()

    def take(self, client: str) -> bool:
        with self._lock:
            if self._running >= self.limits.concurrency or self._by_client[client] >= self.limits.per_client:
                return False
            self._running += 1
            self._by_client[client] += 1
            return True

    def give(self, client: str) -> None:
        with self._lock:
            self._running -= 1
            self._by_client[client] -= 1
            if self._by_client[client] <= 0:
                del self._by_client[client]


def check_shape(data: bytes, limits: Limits) -> None:
    """Refuse a message whose size, entries, values or nesting exceed the limits.
    What cannot be read is left to the validator, which says why."""
    if len(data) > limits.max_bytes:
        raise TooCostly("request-too-large", f"The message is larger than {limits.max_bytes} bytes; validate a smaller one.")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        _check_json(data, limits)
    elif head == b"<":
        _check_xml(data, limits)


def _too_many_entries(limits: Limits) -> TooCostly:
    return TooCostly("too-many-entries", f"The Bundle holds more than {limits.max_entries} entries; validate it in parts.")


def _too_large(limits: Limits) -> TooCostly:
    return TooCostly("too-many-elements", f"The message holds more than {limits.max_nodes} JSON values or "
                     f"{limits.max_xml_elements} XML elements, or nests deeper than {limits.max_depth} levels; "
                     "validate a smaller one.")


def _check_json(data: bytes, limits: Limits) -> None:
    try:
        document = json.loads(data)
    except RecursionError:
        raise _too_large(limits) from None
    except ValueError:
        return  # not JSON: the validator says where
    nodes, entries = 0, 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes or depth > limits.max_depth:
            raise _too_large(limits)
        if isinstance(value, dict):
            entry = value.get("entry")
            if value.get("resourceType") == "Bundle" and isinstance(entry, list):
                entries += len(entry)
                if entries > limits.max_entries:
                    raise _too_many_entries(limits)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _check_xml(data: bytes, limits: Limits) -> None:
    try:
        root = parse_untrusted(data, max_bytes=limits.max_bytes, max_depth=limits.max_depth,
                               max_elements=limits.max_xml_elements)
    except UnsafeXml as refused:
        if refused.code in ("xml-too-deep", "xml-too-many-elements"):
            raise _too_large(limits) from None
        return  # the validator reports the refusal
    entries = 0
    for element in root.iter():
        if element.tag == f"{{{FHIR_NS}}}entry":
            entries += 1
            if entries > limits.max_entries:
                raise _too_many_entries(limits)
