"""Bundles: references resolved inside a Bundle, and the rules of each kind.

References are resolved as R4 says ("Resolving references in Bundles"): an
absolute reference (``http…``, ``urn:uuid:``, ``urn:oid:``) matches an
entry's ``fullUrl``; a relative one (``Patient/1``) is made absolute against
the ``fullUrl`` of the entry it is in, when that is a RESTful URL; a
version-specific one (``…/_history/2``) also matches ``meta.versionId``.

On top of the Bundle's own invariants (bdl-*), with the HL7 validator's
message ids: fullUrls absolute and agreeing with the resource's type and id,
documents and messages that start with a Composition / MessageHeader, whose
entries have fullUrls, whose Composition's references (the MessageHeader's
focus) resolve in the Bundle and whose entries are all reachable from it;
search sets whose results have ids, self links and search modes; link
relations once; the same resource twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from gateway.conformance.fhir import messages
from gateway.conformance.fhir.datatypes import Finding, is_absolute

_RESTFUL = re.compile(r"^(?P<base>https?://.+/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")
_VERSIONED = re.compile(r"^(?P<url>.+)/_history/(?P<version>[A-Za-z0-9\-.]{1,64})$")
_KIND = "bundle"
_SEARCH_RELATIONS = ("self", "first", "previous", "next", "last")


@dataclass
class Resolution:
    targets: list[int] = field(default_factory=list)  # entry indices
    unversioned: list[int] = field(default_factory=list)  # entries that match but declare no versionId


@dataclass
class Entries:
    """A Bundle's entries, indexed for reference resolution."""

    path: str  # the Bundle's path in the message
    resources: list[dict[str, Any] | None]
    full_urls: list[str | None]
    by_full_url: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, bundle: dict[str, Any], path: str) -> "Entries":
        raw = bundle.get("entry")
        entries = [e if isinstance(e, dict) else {} for e in raw] if isinstance(raw, list) else []
        made = cls(
            path=path,
            resources=[e.get("resource") if isinstance(e.get("resource"), dict) else None for e in entries],
            full_urls=[e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None for e in entries],
        )
        for i, url in enumerate(made.full_urls):
            if url is not None:
                made.by_full_url.setdefault(url, []).append(i)
        return made

    def full_url_of(self, resource_path: str) -> str | None:
        """The fullUrl of the entry whose resource is at ``resource_path`` (Bundle.entry[3].resource)."""
        prefix = f"{self.path}.entry["
        if resource_path.startswith(prefix) and resource_path.endswith("].resource"):
            index = resource_path[len(prefix):-len("].resource")]
            if index.isdigit() and int(index) < len(self.full_urls):
                return self.full_urls[int(index)]
        return None

    def resolve(self, reference: str, from_full_url: str | None) -> Resolution:
        """The entries a reference names, by the rules of Bundle resolution."""
        target, version = reference, None
        versioned = _VERSIONED.match(reference)
        if versioned:
            target, version = versioned.group("url"), versioned.group("version")
        if not is_absolute(target):
            restful = _RESTFUL.match(from_full_url) if from_full_url else None
            if restful is None or restful.group("base") is None:
                return Resolution()
            target = restful.group("base") + target
        found = Resolution()
        for i in self.by_full_url.get(target, []):
            resource = self.resources[i]
            if version is None:
                found.targets.append(i)
                continue
            meta = resource.get("meta") if isinstance(resource, dict) else None
            declared = meta.get("versionId") if isinstance(meta, dict) else None
            if declared == version:
                found.targets.append(i)
            elif declared is None:
                found.unversioned.append(i)
        return found

    def lookup(self, reference: str, from_full_url: str | None = None) -> dict[str, Any] | None:
        """The one resource a reference names in the Bundle (for FHIRPath's resolve())."""
        found = self.resolve(reference, from_full_url)
        return self.resources[found.targets[0]] if len(found.targets) == 1 else None


def references(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, reference) of every literal reference under ``node``, contained resources included."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str):
            yield path, reference
        for key, child in node.items():
            if isinstance(child, dict):
                yield from references(child, f"{path}.{key}")
            elif isinstance(child, list):
                for i, item in enumerate(child):
                    if isinstance(item, dict):
                        yield from references(item, f"{path}.{key}[{i}]")


def check(bundle: dict[str, Any], entries: Entries) -> list[Finding]:
    """The Bundle-level rules; findings carry paths from the Bundle (suffixes)."""
    kind = bundle.get("type")
    found: list[Finding] = []
    found += _full_urls(entries, kind)
    found += _links(bundle)
    if kind in ("document", "message"):
        found += _document_or_message(entries, kind)
    elif kind == "searchset":
        found += _searchset(bundle, entries)
    if kind != "history":
        found += _duplicates(entries)
    return found


def _full_urls(entries: Entries, kind: Any) -> list[Finding]:
    found: list[Finding] = []
    for i, (url, resource) in enumerate(zip(entries.full_urls, entries.resources)):
        where = f".entry[{i}]"
        if url is None:
            if kind in ("document", "message"):
                found.append(("error", "Bundle_BUNDLE_Entry_NoFullUrl", where,
                              messages.text("Bundle_BUNDLE_Entry_NoFullUrl"), _KIND))
            continue
        if not is_absolute(url):
            found.append(("error", "BUNDLE_ENTRY_URL_ABSOLUTE", f"{where}.fullUrl",
                          messages.text("BUNDLE_ENTRY_URL_ABSOLUTE", url), _KIND))
            continue
        restful = _RESTFUL.match(url)
        if restful is None or restful.group("base") is None or resource is None:
            continue
        rid = resource.get("id")
        if not isinstance(rid, str):
            if kind not in ("transaction", "batch"):
                found.append(("error", "BUNDLE_ENTRY_URL_MATCHES_NO_ID", f"{where}.fullUrl",
                              messages.text("BUNDLE_ENTRY_URL_MATCHES_NO_ID", url), _KIND))
        elif (restful.group("type"), restful.group("id")) != (resource.get("resourceType"), rid):
            found.append(("error", "BUNDLE_ENTRY_URL_MATCHES_TYPE_ID", f"{where}.fullUrl",
                          messages.text("BUNDLE_ENTRY_URL_MATCHES_TYPE_ID", url, resource.get("resourceType"), rid),
                          _KIND))
    return found


def _links(bundle: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    links = bundle.get("link")
    for i, link in enumerate(links if isinstance(links, list) else []):
        relation = link.get("relation") if isinstance(link, dict) else None
        if not isinstance(relation, str):
            continue
        if relation in seen and relation in _SEARCH_RELATIONS:
            found.append(("error", "BUNDLE_LINK_SEARCH_NO_DUPLICATES", f".link[{i}]",
                          messages.text("BUNDLE_LINK_SEARCH_NO_DUPLICATES", relation), _KIND))
        seen.add(relation)
    return found


def _document_or_message(entries: Entries, kind: str) -> list[Finding]:
    if not entries.resources:
        return [("error", "Bundle_BUNDLE_Entry_NoFirst", "", messages.text("Bundle_BUNDLE_Entry_NoFirst"), _KIND)]
    first = entries.resources[0]
    if first is None:
        return [("error", "Bundle_BUNDLE_Entry_NoFirstResource", ".entry[0]",
                 messages.text("Bundle_BUNDLE_Entry_NoFirstResource"), _KIND)]
    head = "Composition" if kind == "document" else "MessageHeader"
    if first.get("resourceType") != head:
        rule = "Bundle_BUNDLE_Entry_Document" if kind == "document" else "Validation_BUNDLE_Message"
        return [("error", rule, ".entry[0]", messages.text(rule), _KIND)]
    found: list[Finding] = []
    for path, reference in _head_references(first, kind):
        if reference.startswith("#"):
            continue
        if not entries.resolve(reference, entries.full_urls[0]).targets:
            found.append(("error", "Bundle_BUNDLE_Entry_NotFound", f".entry[0].resource{path}.reference",
                          messages.text("Bundle_BUNDLE_Entry_NotFound", reference, f"{head}{path}"), _KIND))
    found += _reachability(entries, kind)
    return found


def _head_references(head: dict[str, Any], kind: str) -> Iterator[tuple[str, str]]:
    if kind == "document":
        yield from ((p, r) for p, r in references(head, "") if not p.startswith(".contained"))
        return
    focus = head.get("focus")
    for i, item in enumerate(focus if isinstance(focus, list) else []):
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            yield f".focus[{i}]", item["reference"]


def _reachability(entries: Entries, kind: str) -> list[Finding]:
    """Every entry is reached from the first by references, forwards or backwards."""
    links: list[set[int]] = []
    for i, resource in enumerate(entries.resources):
        targets: set[int] = set()
        if resource is not None:
            for _, reference in references(resource, ""):
                if not reference.startswith("#"):
                    targets.update(entries.resolve(reference, entries.full_urls[i]).targets)
        links.append(targets)
    forward = _closure({0}, lambda i: links[i])
    reached = set(forward)
    grown = True
    while grown:  # backwards: an entry that refers to a reached one is reached, with what it refers to
        grown = False
        for i, targets in enumerate(links):
            if i not in reached and targets & reached:
                reached |= _closure({i}, lambda j: links[j])
                grown = True
    found: list[Finding] = []
    for i, resource in enumerate(entries.resources):
        if i in forward or resource is None:
            continue
        label = entries.full_urls[i] or f"{resource.get('resourceType')}/{resource.get('id')}"
        if i not in reached:
            if kind == "document":
                found.append(("error", "Bundle_BUNDLE_Entry_Orphan_DOCUMENT", f".entry[{i}]",
                              messages.text("Bundle_BUNDLE_Entry_Orphan_DOCUMENT", label), _KIND))
            else:
                found.append(("warning", "Bundle_BUNDLE_Entry_Orphan_MESSAGE", f".entry[{i}]",
                              messages.text("Bundle_BUNDLE_Entry_Orphan_MESSAGE", label), _KIND))
        elif kind == "document" and resource.get("resourceType") != "Provenance":
            found.append(("warning", "BUNDLE_BUNDLE_ENTRY_REVERSE_R4", f".entry[{i}]",
                          messages.text("BUNDLE_BUNDLE_ENTRY_REVERSE_R4", label), _KIND))
        elif kind == "message":
            found.append(("information", "BUNDLE_BUNDLE_ENTRY_REVERSE_MSG", f".entry[{i}]",
                          messages.text("BUNDLE_BUNDLE_ENTRY_REVERSE_MSG", label), _KIND))
    return found


def _closure(start: set[int], step: Any) -> set[int]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _searchset(bundle: dict[str, Any], entries: Entries) -> list[Finding]:
    found: list[Finding] = []
    links = bundle.get("link")
    if not any(isinstance(link, dict) and link.get("relation") == "self" for link in (links if isinstance(links, list) else [])):
        found.append(("warning", "BUNDLE_SEARCH_NOSELF", "", messages.text("BUNDLE_SEARCH_NOSELF"), _KIND))
    raw = bundle.get("entry")
    modes_missing = False
    for i, entry in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(entry, dict):
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        modes_missing = modes_missing or mode is None
        resource = entries.resources[i]
        if resource is None:
            found.append(("error", "BUNDLE_SEARCH_ENTRY_NO_RESOURCE", f".entry[{i}]",
                          messages.text("BUNDLE_SEARCH_ENTRY_NO_RESOURCE"), _KIND))
        elif mode != "outcome" and not isinstance(resource.get("id"), str):
            found.append(("error", "BUNDLE_SEARCH_ENTRY_NO_RESOURCE_ID", f".entry[{i}].resource",
                          messages.text("BUNDLE_SEARCH_ENTRY_NO_RESOURCE_ID"), _KIND))
    if modes_missing:
        found.append(("warning", "BUNDLE_SEARCH_NO_MODE", "", messages.text("BUNDLE_SEARCH_NO_MODE"), _KIND))
    return found


def _duplicates(entries: Entries) -> list[Finding]:
    """The same resource (type, id, version) twice where no fullUrl tells the entries apart."""
    found: list[Finding] = []
    seen: set[tuple[Any, ...]] = set()
    for i, (url, resource) in enumerate(zip(entries.full_urls, entries.resources)):
        if url is not None or resource is None or not isinstance(resource.get("id"), str):
            continue
        meta = resource.get("meta")
        key = (resource.get("resourceType"), resource["id"], meta.get("versionId") if isinstance(meta, dict) else None)
        if key in seen:
            found.append(("error", "DUPLICATE_ID", f".entry[{i}].resource.id",
                          messages.text("DUPLICATE_ID", f"{key[0]}/{key[1]}"), _KIND))
        seen.add(key)
    return found
