"""SOAP 1.1 plumbing (envelopes, faults, WSDL, dispatch) and the gateway's SOAP face."""
