"""The FHIR R4 (4.0.1) face: thin. It parses, authenticates, maps to a domain
command, calls the same use case as the SOAP face, and maps the result or
the refusal (OperationOutcome) back."""
