"""Domain error paths as FHIRPath expressions, for OperationOutcome.expression.

The care-team and referral use cases already name their elements the FHIR
way (``participant[1].member.identifier``, ``occurrencePeriod.end``), with
the index of the item the caller sent; those only need the resource type in
front. The few that differ are listed."""

from __future__ import annotations


class ElementPaths(dict[str, str]):
    """``paths`` of a handler: listed translations first, else ``<Type>.<path>``."""

    def __init__(self, resource_type: str, listed: dict[str, str]) -> None:
        super().__init__(listed)
        self.resource_type = resource_type

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        if key in self:
            return self[key]
        if not key:
            return default
        return f"{self.resource_type}.{key}"
