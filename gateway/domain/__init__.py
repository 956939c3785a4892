"""The internal model: entities, use cases, business rules, access policy, audit.

Knows no wire format: the faces turn FHIR or SOAP into the commands of this
package and its results back into payloads.
"""
