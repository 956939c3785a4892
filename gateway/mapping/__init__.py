"""Loads the declarative mappings of ``mappings/`` and applies them: FHIR JSON
and SOAP XML payloads to domain values, and back. Both faces use this one
engine, so a field maps the same way wherever it travels."""
