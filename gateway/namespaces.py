"""Every XML namespace the gateway reads or writes, defined once.

Identity, the SOAP face, the conformance toolkit and the clients import
them from here (zeep's ``ns.py`` is the model); a service's own contract
namespaces (``urn:be:care-gateway:integrated-care:v1``, the eHealth
protocol namespaces) stay beside that service's code, since only it uses them.
"""

from __future__ import annotations

# SOAP 1.1 and WSDL 1.1
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"

# XML Schema
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# OASIS WS-Security 1.0 (SOAP Message Security) and its utility schema
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

# WS-Trust 1.3 and the WS-Federation authorization schema (STS requests)
WST_NS = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WSFED_AUTH_NS = "http://docs.oasis-open.org/wsfed/authorization/200706"

# XML Signature and exclusive canonicalisation (its InclusiveNamespaces element)
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"

# SAML 1.1 (the STS's tokens) and SAML 2.0 (the attribute authority)
SAML1_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
SAMLP1_NS = "urn:oasis:names:tc:SAML:1.0:protocol"
SAML2_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP2_NS = "urn:oasis:names:tc:SAML:2.0:protocol"

# FHIR's XML format and the XHTML of its narratives
FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# Ours: the detail of every SOAP Fault the gateway and the simulated platform send
FAULT_NS = "urn:be:care-gateway:fault:v1"


def qname(ns: str, name: str) -> str:
    """Clark notation ``{ns}name``, as lxml spells a qualified name."""
    return f"{{{ns}}}{name}"
