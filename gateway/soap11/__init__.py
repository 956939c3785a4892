"""A SOAP 1.1 server kit on FastAPI and lxml: envelopes and faults
(``envelope``), a service with WS-Security and dispatch by payload
(``service``), and a service held to its WSDL/XSD contract (``contract``).

No maintained SOAP server library exists for Python 3.11+, so this is ours.
It knows no service of the gateway: the gateway's SOAP face
(``gateway.soap``) and the simulated eHealth platform (``gateway.ehealth``)
both build their services on it.
"""
