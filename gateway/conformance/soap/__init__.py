"""SOAP envelope validation: SOAP 1.1 shape, the payload against the XSD
found by its namespace under ``soap/``, WS-Security and the SAML assertion,
judged by the same verifiers as the SOAP face."""

from gateway.conformance.soap.schemas import SchemaIndex
from gateway.conformance.soap.trust import RunReplayGuard, Trust, TrustError
from gateway.conformance.soap.validator import SoapValidator

__all__ = ["SchemaIndex", "SoapValidator", "Trust", "TrustError", "RunReplayGuard"]
