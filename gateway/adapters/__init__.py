"""Clients of the eHealth platform's web services, each implementing a
domain port (:mod:`gateway.domain.ports`), speaking the services' wire
protocols as they would to the real platform:

- :mod:`~gateway.adapters.attribute_authority`: the attribute authority
  (SAML 2.0 AttributeQuery): therapeutic links, memberships, insurer;
- :mod:`~gateway.adapters.addressbook`: the AddressBook (CoBrHa):
  professionals with quality and visa, organisations, directory searches;
- :mod:`~gateway.adapters.consultrn`: consultRN, the national register and
  its mutation feed;
- :mod:`~gateway.adapters.facts`: the two first composed into one ``CareFacts``;
- :mod:`~gateway.adapters.connection`: all of them from one client, endpoints,
  signer, trust and clock.

Underneath: :mod:`~gateway.adapters.transport` (an ``httpx.Client`` over the
network or in process), :mod:`~gateway.adapters.wsse` (requests signed with
the gateway's organisation credential), :mod:`~gateway.adapters.trust`
(whose signatures count on answers), :mod:`~gateway.adapters.soap` (one
call), :mod:`~gateway.adapters.cache` (answers kept for a bounded time, per
kind: the lifetimes are listed there) and :mod:`~gateway.adapters.errors`
(every failure a :class:`~gateway.domain.ports.SourceUnavailable` with a
stable code).

Nothing here imports the simulated platform's services or state: the
simulated platform is reached over HTTP like the real one (the attribute
names of :mod:`gateway.aa_vocabulary` are the one shared contract).
"""
