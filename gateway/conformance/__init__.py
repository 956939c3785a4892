"""The conformance toolkit: validators the gateway runs on every write and
puts in front of partners (FHIR profiles in :mod:`gateway.conformance.fhir`)."""
