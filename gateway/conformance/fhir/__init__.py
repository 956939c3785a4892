"""FHIR R4 profile validation: the R4 core package and our profiles, snapshots,
structure, cardinality, types, fixed/pattern values, bindings, slicing and
FHIRPath invariants, reported as an OperationOutcome."""

from gateway.conformance.fhir.outcome import RULE_EXTENSION, RULE_SYSTEM, ValidationIssue, ValidationResult
from gateway.conformance.fhir.validator import FhirValidator

__all__ = ["FhirValidator", "ValidationIssue", "ValidationResult", "RULE_SYSTEM", "RULE_EXTENSION"]
