"""What partners send, read in the one form the mappings declare.

HL7 Belgium allows a NIHII under ``nihdi``, ``nihdi-professional`` or
``nihdi-organization``, and a CodeableConcept by text or by coding; the
mappings read ``nihdi`` and ``.text``. These helpers bring a copy of the
incoming resource to that form before it is mapped; nothing is stored as
sent."""

from __future__ import annotations

from typing import Any

from gateway.domain.identifiers import NIHDI_SYSTEM
from gateway.fhir.resources.common import NIHDI_SYSTEMS


def reference_identifier(reference: dict[str, Any] | None) -> None:
    """A Reference's NIHII identifier under the one ``nihdi`` system."""
    ident = (reference or {}).get("identifier")
    if isinstance(ident, dict) and ident.get("system") in NIHDI_SYSTEMS:
        ident["system"] = NIHDI_SYSTEM


def concept_text(concept: dict[str, Any] | None) -> None:
    """A CodeableConcept given by coding only gets its first display (or code) as text."""
    if not isinstance(concept, dict) or concept.get("text"):
        return
    for coding in concept.get("coding", []):
        label = coding.get("display") or coding.get("code")
        if label:
            concept["text"] = label
            return


def reference_type(reference: dict[str, Any] | None) -> str | None:
    """The resource type a Reference points to: its ``type``, else its relative reference's type."""
    if not isinstance(reference, dict):
        return None
    if reference.get("type"):
        return str(reference["type"])
    parts = str(reference.get("reference") or "").split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    return parts[-2] if len(parts) >= 2 and parts[-2] else None
