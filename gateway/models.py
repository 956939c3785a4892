"""Imports every module that declares tables, so that ``Base.metadata``
is complete for Alembic, ``create_all`` and the tests. Add a line here when
a package gains a table module. The simulated platform's tables are
not here: they live in its own database (``gateway.ehealth.store``)."""

from __future__ import annotations

import gateway.domain.model  # noqa: F401
import gateway.domain.bulk_model  # noqa: F401  (bulk exports, IC-R7)
import gateway.identity.model  # noqa: F401
import gateway.domain.rtw.model  # noqa: F401  (return to work)
import gateway.domain.perinatal.model  # noqa: F401  (the perinatal programme)
from gateway.domain.model import Base

__all__ = ["Base"]
