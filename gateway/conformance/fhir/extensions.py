"""Extensions as the HL7 validator judges them.

- ``Extension.url`` is present, and absolute, except for the sub-extensions
  of a complex extension, whose relative urls must be slices of the
  extension's definition (``Extension_EXT_SubExtension_Invalid``).
- An extension the validator has no definition for is an error
  (``Extension_EXT_Unknown_NotHere``), as with the HL7 validator's default;
  the domains a deployment trusts (or all, ``any_extension``) make it an
  information instead. A modifier extension that is not understood is an
  error whatever the settings: it changes the meaning of its element.
- A known extension is used where its ``context`` allows it, as a modifier
  exactly when it is one, and a simple extension (one with ``value[x]``)
  carries a value, not sub-extensions.

The checks return findings ``(severity, rule, path suffix, message, kind)``;
the walker reports them and walks the extension's content against its
definition.
"""

from __future__ import annotations

from typing import Any, Iterable

from gateway.conformance.fhir import messages
from gateway.conformance.fhir.datatypes import Finding, example_url_findings, is_absolute
from gateway.conformance.fhir.structure import ElementNode, Structure, Structures

CORE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/Extension"
# Namespaces the HL7 validator accepts without a definition (DICOM's, and the validator's own tools).
ALWAYS_ALLOWED = ("http://nema.org/", "https://nema.org/", "http://dicom.nema.org/", "http://hl7.org/fhir/tools/StructureDefinition/")
_KIND = "extension"
# Where R4's own definitions use a core extension outside the context it declares (its snapshots put
# structuredefinition-fhir-type and regex on ElementDefinition.type, normative-version on any element):
# the HL7 validator accepts these places too, and so do we.
CONTEXT_FIXES: dict[str, tuple[str, ...]] = {
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type": ("ElementDefinition.type",),
    "http://hl7.org/fhir/StructureDefinition/regex": ("ElementDefinition.type",),
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version": ("Element",),
    "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation": ("Element",),
    "http://hl7.org/fhir/StructureDefinition/capabilitystatement-prohibited": ("Element",),
}


def is_sub_extension(child: ElementNode) -> bool:
    """The ``extension`` element of an Extension (a complex extension's parts)."""
    parent = child.path.rsplit(".", 2)[-2] if child.path.count(".") >= 1 else ""
    return child.name == "extension" and parent in ("Extension", "extension", "modifierExtension")


def slice_url(slice_node: ElementNode) -> str | None:
    """The url an extension slice stands for: its fixed ``url``, or its type profile."""
    url = slice_node.children.get("url")
    if url is not None and url.fixed is not None and isinstance(url.fixed[1], str):
        return url.fixed[1]
    for type_ref in slice_node.types:
        if type_ref.profiles:
            return type_ref.profiles[0]
    return None


class ExtensionRules:
    """Finds extension definitions and says what is wrong with an extension's use."""

    def __init__(self, structures: Structures, *, domains: Iterable[str] = (), any_extension: bool = False) -> None:
        self.structures = structures
        self.domains = tuple(domains)
        self.any_extension = any_extension

    def definition(self, url: str) -> Structure | None:
        structure = self.structures.get(url)
        return structure if structure is not None and structure.type == "Extension" else None

    def allowed_unknown(self, url: str) -> bool:
        return self.any_extension or url.startswith(ALWAYS_ALLOWED) or url.startswith(self.domains)

    def examine(
        self, value: dict[str, Any], child: ElementNode, owner: Structure, host: frozenset[str],
    ) -> tuple[Structure | None, list[Finding]]:
        """The definition of one extension found by its url (None when unknown), and its problems.
        ``host`` names the element that carries it: its paths and its type with the types it derives from."""
        url = value.get("url")
        modifier = child.name == "modifierExtension"
        if not isinstance(url, str):
            return None, [("error", "Extension_EXT_Url_NotFound", "", messages.text("Extension_EXT_Url_NotFound"), _KIND)]
        sub = is_sub_extension(child)
        if not is_absolute(url):
            if not sub:
                return None, [("error", "Extension_EXT_URL_Absolute", ".url", messages.text("Extension_EXT_URL_Absolute"),
                               _KIND)]
            if owner.type == "Extension" and owner.url != CORE_EXTENSION and url not in {slice_url(s) for s in child.slices}:
                return None, [("error", "Extension_EXT_SubExtension_Invalid", "",
                               messages.text("Extension_EXT_SubExtension_Invalid", url, owner.url), _KIND)]
            return None, []
        known = self.definition(url)
        if known is None:
            example = example_url_findings(url, ".url")
            if not modifier and self.allowed_unknown(url):
                return None, example + [("information", "Extension_EXT_Unknown", "",
                                         messages.text("Extension_EXT_Unknown", url), _KIND)]
            return None, example + [("error", "Extension_EXT_Unknown_NotHere", "",
                                     messages.text("Extension_EXT_Unknown_NotHere", url), _KIND)]
        return known, self._use(value, url, known, modifier, host, owner.url if sub and owner.type == "Extension" else None)

    def _use(
        self, value: dict[str, Any], url: str, known: Structure, modifier: bool, host: frozenset[str],
        enclosing: str | None,
    ) -> list[Finding]:
        found: list[Finding] = []
        if modifier and not known.root.is_modifier:
            found.append(("error", "Extension_EXT_Modifier_Y", "", messages.text("Extension_EXT_Modifier_Y", url), _KIND))
        elif not modifier and known.root.is_modifier:
            found.append(("error", "Extension_EXT_Modifier_N", "", messages.text("Extension_EXT_Modifier_N", url), _KIND))
        contexts = list(known.definition.get("context") or [])
        contexts += [{"type": "element", "expression": e} for e in CONTEXT_FIXES.get(url, ())] if contexts else []
        if contexts and not _context_allows(contexts, host, enclosing):
            rule = "Extension_EXTM_Context_Wrong" if modifier else "Extension_EXTP_Context_Wrong"
            allowed = ", ".join(f"{c.get('type')}:{c.get('expression')}" for c in contexts)
            here = ", ".join(sorted(h for h in host if "." in h)) or ", ".join(sorted(host))
            found.append(("error", rule, "", messages.text(rule, url, allowed, here), _KIND))
        value_node = known.root.children.get("value[x]")
        simple = value_node is not None and value_node.max != 0
        has_value = any(k.startswith("value") and k[5:6].isupper() for k in value)
        if simple and not has_value:
            rule = "Extension_EXT_Simple_WRONG" if value.get("extension") else "Extension_EXT_Simple_ABSENT"
            found.append(("error", rule, "", messages.text(rule, url), _KIND))
        return found


def _context_allows(contexts: list[dict[str, Any]], host: frozenset[str], enclosing: str | None) -> bool:
    for context in contexts:
        kind, expression = context.get("type"), context.get("expression")
        if kind == "element":
            if expression == "Element" or expression in host:
                return True
        elif kind == "extension":
            if enclosing is not None and expression == enclosing:
                return True
        else:  # a FHIRPath context: not evaluated here, so not refused
            return True
    return False
