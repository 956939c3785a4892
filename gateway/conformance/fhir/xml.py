"""R4 XML to R4 JSON, so that XML is validated by the same walk as JSON.

The conversion follows the R4 definitions (core types; profiles change no
names): which elements repeat (JSON arrays), which are primitives (``value``
attribute to a JSON value of the right kind, ``id`` and ``extension`` to the
``_name`` companion), choice types by their suffixed names, resources nested
in ``contained`` or ``Bundle.entry.resource``, the narrative ``div`` kept as
XHTML text, ``id`` and ``url`` attributes. Unknown elements are carried over
unchanged so that the validator reports them with their path. Problems only
XML can have (namespace, text content, element order, stray attributes) are
returned as issues with the same paths as the JSON validation.

fhir.resources (R4B) is not used: its XML reader raises on the first
unknown element instead of reporting, and it models R4B, not R4.

Parsing is hardened: no DTD, no entities, no network, bounded depth.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from gateway.conformance.fhir.outcome import ValidationIssue
from gateway.conformance.fhir.package import Definitions
from gateway.conformance.fhir.structure import ElementNode, Structure, Structures, TypeRef

from gateway.namespaces import FHIR_NS
from gateway.namespaces import XHTML_NS
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
_INTEGERS = {"integer", "positiveInt", "unsignedInt"}


class XmlConversionError(ValueError):
    """XML that cannot be read at all (not well-formed, a DTD, too large)."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.path = path


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


def parse_xml(data: bytes) -> etree._Element:
    if len(data) > MAX_BYTES:
        raise XmlConversionError(f"the document is larger than {MAX_BYTES} bytes")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise XmlConversionError(f"not well-formed XML: {error}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlConversionError("a DOCTYPE is not allowed in FHIR XML")
    return root


def xml_to_json(data: bytes, definitions: Definitions, structures: Structures) -> tuple[dict[str, Any], list[ValidationIssue]]:
    root = parse_xml(data)
    converter = _Converter(definitions, structures)
    resource = converter.resource(root, etree.QName(root).localname, 0)
    return resource, converter.problems


def _primitive_value(text: str, code: str) -> Any:
    """The JSON value of an XML ``value`` attribute (left a string when invalid, for the validator to report)."""
    if code == "boolean" and text in ("true", "false"):
        return text == "true"
    if code in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            return text
    if code == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return number if number.is_finite() else text
    return text


class _Converter:
    def __init__(self, definitions: Definitions, structures: Structures) -> None:
        self.definitions = definitions
        self.structures = structures
        self.problems: list[ValidationIssue] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(ValidationIssue("error", "structure", path, "structure", message))

    # --------------------------------------------------------------- nodes
    def resource(self, element: etree._Element, path: str, depth: int) -> dict[str, Any]:
        qname = etree.QName(element)
        if qname.namespace != FHIR_NS:
            self.problem(path, f"{qname.localname} must be in the FHIR namespace {FHIR_NS}")
        out: dict[str, Any] = {"resourceType": qname.localname}
        structure = self.structures.for_type(qname.localname) if self.definitions.is_resource_type(qname.localname) else None
        children = structure.root.children if structure is not None else {}
        self._content(element, children, structure, out, path, depth, resource_root=True)
        return out

    def _children_of(self, node: ElementNode, type_ref: TypeRef | None, owner: Structure | None) -> tuple[dict[str, ElementNode], Structure | None]:
        if node.content_reference and owner is not None:
            target = owner.element(node.content_reference.lstrip("#"))
            if target is not None:
                return target.children, owner
        if node.children:
            return node.children, owner
        if type_ref is not None:
            structure = self.structures.for_type(type_ref.code)
            if structure is not None:
                return structure.root.children, structure
        return {}, owner

    @staticmethod
    def _match(children: dict[str, ElementNode], name: str) -> tuple[ElementNode | None, TypeRef | None]:
        node = children.get(name)
        if node is not None and not node.is_choice:
            return node, node.types[0] if node.types else None
        for candidate in children.values():
            if candidate.is_choice and name.startswith(candidate.choice_prefix):
                type_ref = candidate.type_for_suffix(name[len(candidate.choice_prefix):])
                if type_ref is not None:
                    return candidate, type_ref
        return None, None

    def _content(
        self, element: etree._Element, children: dict[str, ElementNode], owner: Structure | None,
        out: dict[str, Any], path: str, depth: int, *, resource_root: bool = False,
    ) -> None:
        if depth > MAX_DEPTH:
            raise XmlConversionError(f"nesting deeper than {MAX_DEPTH}", path)
        if element.text and element.text.strip():
            self.problem(path, "text content is not allowed here: FHIR XML holds values in value attributes")
        for attribute, value in element.attrib.items():
            name = etree.QName(attribute).localname
            if not resource_root and name in ("id", "url") and name in children:
                out[name] = value
            else:
                self.problem(path, f"attribute {name!r} is not allowed here")
        order = list(children)
        last_position = -1
        counts: dict[str, int] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            name = qname.localname
            node, type_ref = self._match(children, name)
            index = counts.get(name, 0)
            counts[name] = index + 1
            many = node.many if node is not None else False
            child_path = f"{path}.{name}[{index}]" if many else f"{path}.{name}"
            if qname.namespace != FHIR_NS and not (name == "div" and qname.namespace == XHTML_NS):
                self.problem(child_path, f"{name} must be in the FHIR namespace {FHIR_NS}")
            if node is not None:
                position = order.index(node.name)
                if position < last_position:
                    self.problem(child_path, f"{name} is out of order: FHIR XML follows the order of the definition")
                last_position = max(last_position, position)
            value, companion = self._value(child, node, type_ref, owner, child_path, depth + 1)
            self._put(out, name, value, companion, many, index)

    @staticmethod
    def _put(out: dict[str, Any], name: str, value: Any, companion: Any, many: bool, index: int) -> None:
        """Store one occurrence: a JSON array (padded with nulls) when the element
        repeats, or when a single element occurs twice (the validator reports it)."""
        if not (many or name in out or f"_{name}" in out):
            if value is not None:
                out[name] = value
            if companion is not None:
                out[f"_{name}"] = companion
            return
        for key, item in ((name, value), (f"_{name}", companion)):
            existing = out.get(key)
            items = existing if isinstance(existing, list) else ([] if existing is None else [existing])
            items.extend([None] * (index - len(items)))
            items.append(item)
            if any(i is not None for i in items):
                out[key] = items
            else:
                out.pop(key, None)

    def _value(
        self, element: etree._Element, node: ElementNode | None, type_ref: TypeRef | None,
        owner: Structure | None, path: str, depth: int,
    ) -> tuple[Any, Any]:
        if node is None:
            return self._generic(element, path, depth), None
        code = type_ref.code if type_ref is not None else "BackboneElement"
        if code == "xhtml":
            return etree.tostring(element, encoding="unicode", with_tail=False), None
        if type_ref is not None and type_ref.is_primitive:
            return self._primitive(element, code, path, depth)
        if code == "Resource" or self.definitions.is_resource_type(code):
            inner = [c for c in element if isinstance(c.tag, str)]
            if len(inner) != 1:
                self.problem(path, "a resource container holds exactly one resource element")
                return ({} if not inner else self.resource(inner[0], path, depth)), None
            return self.resource(inner[0], path, depth), None
        children, child_owner = self._children_of(node, type_ref, owner)
        out: dict[str, Any] = {}
        self._content(element, children, child_owner, out, path, depth)
        return out, None

    def _primitive(self, element: etree._Element, code: str, path: str, depth: int) -> tuple[Any, Any]:
        value = element.get("value")
        converted = _primitive_value(value, code) if value is not None else None
        companion: dict[str, Any] = {}
        if element.get("id") is not None:
            companion["id"] = element.get("id")
        for name in element.attrib:
            if etree.QName(name).localname not in ("value", "id"):
                self.problem(path, f"attribute {etree.QName(name).localname!r} is not allowed on a primitive")
        if element.text and element.text.strip():
            self.problem(path, "text content is not allowed: a primitive's value is its value attribute")
        extension_type = self.structures.for_type("Extension")
        extensions: list[dict[str, Any]] = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if etree.QName(child).localname != "extension" or extension_type is None:
                self.problem(f"{path}.{etree.QName(child).localname}", "a primitive holds only extensions")
                continue
            ext: dict[str, Any] = {}
            self._content(child, extension_type.root.children, extension_type, ext, f"{path}.extension[{len(extensions)}]", depth + 1)
            extensions.append(ext)
        if extensions:
            companion["extension"] = extensions
        return converted, companion or None

    def _generic(self, element: etree._Element, path: str, depth: int) -> Any:
        """An element unknown to R4, carried over for the validator to report."""
        if depth > MAX_DEPTH:
            raise XmlConversionError(f"nesting deeper than {MAX_DEPTH}", path)
        elements = [c for c in element if isinstance(c.tag, str)]
        if "value" in element.attrib and not elements:
            return element.get("value")
        out: dict[str, Any] = {k: v for k, v in element.attrib.items() if k != "value"}
        for child in elements:
            name = etree.QName(child).localname
            value = self._generic(child, f"{path}.{name}", depth + 1)
            if name in out:
                out[name] = out[name] if isinstance(out[name], list) else [out[name]]
                out[name].append(value)
            else:
                out[name] = value
        return out

