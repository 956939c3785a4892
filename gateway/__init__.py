"""care-gateway: an interoperability gateway for Belgian integrated care.

One internal model of inclusions, consents, care teams and referrals
(``gateway.domain``), shown through a FHIR R4 face and an eHealth-secured
SOAP face, beside a simulated eHealth platform and a conformance toolkit.
"""

__version__ = "0.1.0"
