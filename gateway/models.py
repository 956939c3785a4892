"""Imports every module that declares tables, so that ``Base.metadata``
is complete for Alembic, ``create_all`` and the tests. Add a line here when
a package gains a table module."""

from __future__ import annotations

import gateway.domain.model  # noqa: F401
import gateway.ehealth.model  # noqa: F401
import gateway.ehealth.hub_model  # noqa: F401
import gateway.identity.model  # noqa: F401
import gateway.ehealth.oauth_model  # noqa: F401
from gateway.domain.model import Base

__all__ = ["Base"]
