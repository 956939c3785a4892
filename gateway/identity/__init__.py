"""Who is calling: the :class:`~gateway.domain.principal.Principal`, and the
verification of the tokens and signatures that establish it."""
