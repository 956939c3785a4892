"""FHIRPath for invariants, on fhirpathpy, with three things it lacks.

1. **Primitive extensions.** fhirpathpy 2.x returns a primitive and its
   ``_name`` companion as two separate nodes, so ``value.count()`` is 2 for
   an identifier whose value carries an extension and string functions on
   ``value`` fail. FHIRPath (and fhirpath.js) see one node whose
   ``extension`` comes from the companion. :func:`install` replaces
   fhirpathpy's member navigation with one that merges them; HL7 Belgium's
   own expressions (``value.extension.where(url = ...)``) rely on it.
2. **FHIR functions** the R4 invariants call: ``hasValue()``,
   ``htmlChecks()`` (narrative: an XHTML ``div`` of allowed elements, with
   content; see :mod:`gateway.conformance.fhir.narrative`) and ``resolve()``
   (contained resources and Bundle entries).
3. **R4-era ``as()``.** R4's ``dom-3`` calls ``descendants().as(canonical)``
   on a collection; fhirpathpy follows the later normative rule (singleton
   or error), the HL7 validator filters like ``ofType()``. We filter, so that
   every resource with contained resources can be checked.
4. **Silence.** ``trace()`` prints unless given a callback.
5. **A type name first.** ``Identifier.where(...)`` on an Identifier (HL7
   Belgium's ``be-inv-SSIN``) starts with the type of its focus, which
   FHIRPath allows; fhirpathpy only knows it for resources, so the name is
   taken off for data types.

Parsed expressions are cached: parsing (ANTLR) costs far more than evaluating.
"""

from __future__ import annotations

import importlib
import sys
from collections import abc
from threading import Lock
from typing import Any, Callable

from fhirpathpy.engine import do_eval, nodes, util
from fhirpathpy.engine.invocations.constants import constants
from fhirpathpy.engine.invocations.filtering import of_type_fn
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from gateway.conformance.fhir.narrative import XHTML_NS, analyse

MODEL = models["r4"]
_installed = False


def _member_invocation(model: Any, key: str) -> Callable[[list[Any], Any], list[Any]]:
    """fhirpathpy's member navigation, merging ``name``/``_name`` into one node."""

    def func(acc: list[Any], res: Any) -> list[Any]:
        res = nodes.ResourceNode.create_node(res)
        child_path = f"{res.path}.{key}" if res.path else f"_.{key}"
        full_path = (f"{res.propName}.{key}" if res.propName else child_path).replace("_", "")
        actual_types = None
        to_add: Any = None
        to_add_: Any = None
        if isinstance(model, dict):
            child_path = model["pathsDefinedElsewhere"].get(child_path, child_path)
            actual_types = model["choiceTypePaths"].get(child_path)
        data = res.data
        if not isinstance(data, abc.Mapping) and isinstance(res._data, abc.Mapping):
            data = res._data  # a primitive's id and extension live in its companion
        if isinstance(data, nodes.FP_Quantity):
            to_add = data.value
        elif actual_types and isinstance(data, abc.Mapping):
            for actual_type in actual_types:
                field = f"{key}{actual_type}"
                to_add, to_add_ = data.get(field), data.get(f"_{field}")
                if to_add is not None or to_add_ is not None:
                    child_path += actual_type
                    break
        elif isinstance(data, abc.Mapping):
            to_add, to_add_ = data.get(key), data.get(f"_{key}")
            if key == "extension":
                child_path = "Extension"
        if isinstance(model, dict) and "path2Type" in model:
            child_path = model["path2Type"].get(child_path, child_path)

        def make(value: Any, companion: Any, prop: str, index: int | None = None) -> Any:
            if value is None:  # extension-only primitive: the companion is the node
                return nodes.ResourceNode.create_node(companion, child_path, propName=prop, index=index)
            extra = companion if isinstance(companion, abc.Mapping) else None
            return nodes.ResourceNode(value, child_path, extra, prop, index)

        if isinstance(to_add, list) or isinstance(to_add_, list):
            values = to_add if isinstance(to_add, list) else []
            companions = to_add_ if isinstance(to_add_, list) else []
            for i in range(max(len(values), len(companions))):
                value = values[i] if i < len(values) else None
                companion = companions[i] if i < len(companions) else None
                if value is not None or companion is not None:
                    acc.append(make(value, companion, f"{full_path}[{i}]", i))
        elif util.is_some(to_add) or util.is_some(to_add_):
            acc.append(make(to_add, to_add_, full_path))
        return acc

    return func


def install() -> None:
    """Patch fhirpathpy's member navigation once (idempotent)."""
    global _installed
    if _installed:
        return
    module = sys.modules.get("fhirpathpy.engine.evaluators") or importlib.import_module("fhirpathpy.engine.evaluators")
    if not hasattr(module, "create_reduce_member_invocation"):
        raise RuntimeError("fhirpathpy changed: create_reduce_member_invocation is gone; review gateway/conformance/fhir/fhirpath.py")
    setattr(module, "create_reduce_member_invocation", _member_invocation)
    _installed = True


# ------------------------------------------------------------ FHIR functions
def _has_value(ctx: dict[str, Any], coll: list[Any]) -> list[bool]:
    if len(coll) != 1:
        return [False]
    data = util.get_data(coll[0])
    return [data is not None and not isinstance(data, (abc.Mapping, list))]


def html_is_safe(text: str) -> bool:
    """txt-1 and txt-2 together: an XHTML ``div`` with content, only the allowed
    elements and attributes (so no active content, no event attributes)."""
    found = analyse(text)
    return found.root_name == "div" and found.root_namespace == XHTML_NS and found.names_ok and found.content_ok


def _html_checks(ctx: dict[str, Any], coll: list[Any]) -> list[bool]:
    data = [util.get_data(c) for c in coll]
    return [len(data) == 1 and isinstance(data[0], str) and html_is_safe(data[0])]


def _resolve(ctx: dict[str, Any], coll: list[Any]) -> list[Any]:
    variables = ctx["vars"]
    root = variables.get("rootResource") or {}
    bundle = variables.get("bundle")  # gateway.conformance.fhir.bundles.Entries, when in a Bundle
    found = []
    for item in coll:
        data = util.get_data(item)
        reference = data.get("reference") if isinstance(data, abc.Mapping) else data if isinstance(data, str) else None
        if not isinstance(reference, str):
            continue
        target = None
        if reference.startswith("#"):
            for contained in root.get("contained", []) if isinstance(root, abc.Mapping) else []:
                if isinstance(contained, abc.Mapping) and contained.get("id") == reference[1:]:
                    target = contained
        elif bundle is not None:
            target = bundle.lookup(reference, variables.get("bundleFullUrl"))
        if target is not None:
            found.append(nodes.ResourceNode.create_node(target))
    return found


def _as(ctx: dict[str, Any], coll: list[Any], type_info: Any) -> list[Any]:
    return of_type_fn(ctx, coll, type_info)


FUNCTIONS: dict[str, dict[str, Any]] = {
    "as": {"fn": _as, "arity": {1: ["TypeSpecifier"]}},
    "hasValue": {"fn": _has_value},
    "htmlChecks": {"fn": _html_checks},
    "resolve": {"fn": _resolve},
}


class FhirPath:
    """Evaluate FHIRPath expressions against JSON resources, parsing each once."""

    def __init__(self) -> None:
        install()
        self._parsed: dict[str, Any] = {}
        self._lock = Lock()

    def parsed(self, expression: str) -> Any:
        tree = self._parsed.get(expression)
        if tree is None:
            tree = parse(expression)
            with self._lock:
                self._parsed[expression] = tree
        return tree

    def evaluate(
        self, focus: Any, expression: str, *, focus_type: str | None = None,
        companion: dict[str, Any] | None = None, variables: dict[str, Any] | None = None,
    ) -> list[Any]:
        """Evaluate on ``focus`` (a resource, an element or a primitive of
        type ``focus_type``); ``%resource``/``%rootResource`` come from ``variables``."""
        node: Any
        if isinstance(focus, abc.Mapping) and "resourceType" in focus:
            node = focus  # raw, as fhirpathpy expects, so that "Patient.name" filters by type
        else:
            node = nodes.ResourceNode(focus, focus_type, companion, None, None)
            if focus_type and focus_type[:1].isupper() and expression.startswith(focus_type + "."):
                expression = expression[len(focus_type) + 1:]
        tree = self.parsed(expression)
        constants.reset()
        data_root = [node]
        ctx = {
            "dataRoot": data_root,
            "vars": {"context": node, "ucum": "http://unitsofmeasure.org", **(variables or {})},
            "model": MODEL,
            "userInvocationTable": FUNCTIONS,
            "traceFn": lambda label, value: None,
        }
        result = do_eval(ctx, data_root, tree["children"][0])
        return [util.get_data(item) for item in result]

    @staticmethod
    def truth(result: list[Any]) -> bool:
        """An invariant fails only when it yields ``false``. An empty result
        (e.g. ``reference.startsWith('#')`` on a reference made of an
        identifier, in R4's ``ref-1``) is not a failure: R4's core invariants
        are written that way. Our own invariants yield ``false`` when broken."""
        return not any(item is False for item in result)
