"""The conformance toolkit: validators the gateway runs on every write and
puts in front of partners (FHIR profiles in :mod:`gateway.conformance.fhir`;
SOAP envelopes, their XSD, WS-Security and SAML in
:mod:`gateway.conformance.soap`), the one entry point that tells them apart
(:mod:`gateway.conformance.validate`), reports (:mod:`gateway.conformance.reports`),
``care-gateway validate`` (:mod:`gateway.conformance.cli`) and
``POST /conformance/validate`` with its page (:mod:`gateway.conformance.api`)."""
