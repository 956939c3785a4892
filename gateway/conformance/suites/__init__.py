"""Conformance test suites as data (``conformance/suites/*.yaml``) and the
runner that plays them against any endpoint implementing our contracts:
``loader`` (YAML checked against suite.schema.json), ``variables``
(``${...}`` templates), ``tokens`` (the personas' tokens from the IdP/STS),
``actions`` (fhir, soap, soap-raw, wait), ``asserts``, ``runner``,
``progress`` (stderr), ``report`` / ``html`` / ``junit`` (the reports) and
``cli`` (``care-gateway conformance run|list``)."""
