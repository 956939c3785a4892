"""``${...}`` templates: variables, captures, personas and dates relative to
today, so that a suite written once keeps passing on any day and any run.

    ${patient}                 a variable or a capture (``save``)
    ${persona.gp.niss}         a persona's niss, nihii, organisation, cbe, key, role
    ${today}  ${today-30d}     dates (Belgian calendar day), ``d`` days
    ${now}                     the instant, ISO 8601
    ${run}  ${target}          this run's id and the target's base URL
    ${today-40d|next-month}    filters: next-month (first day of the following
                               month), next-month-end (its last day)

A string that is one ``${...}`` and nothing else keeps the value's type (a
number stays a number in JSON); inside other text the value is written out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from gateway.domain.clock import Clock

_REF = re.compile(r"\$\{([^}]+)\}")
_RELATIVE = re.compile(r"^(today|now)(?:([+-])([0-9]+)([dhms]))?$")


class UnknownVariable(KeyError):
    """A template names something no variable, capture or built-in provides."""

    def __str__(self) -> str:
        return f"${{{self.args[0]}}} is not set (no variable, capture or built-in of that name)"


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


FILTERS: dict[str, Callable[[Any], Any]] = {
    "next-month": lambda d: _next_month(_as_date(d)),
    "next-month-end": lambda d: _next_month(_next_month(_as_date(d))) - timedelta(days=1),
}


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def text(value: Any) -> str:
    """How a value is written inside a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass
class Scope:
    """Names a suite can use: built-ins, personas, its variables, its captures."""

    clock: Clock
    run_id: str
    target: str
    personas: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def child(self) -> "Scope":
        """A scope for one suite: the run's names, the suite's own values."""
        return Scope(self.clock, self.run_id, self.target, self.personas, dict(self.values))

    def lookup(self, expression: str) -> Any:
        base, *filters = [part.strip() for part in expression.split("|")]
        value = self._base(base)
        for name in filters:
            if name not in FILTERS:
                raise UnknownVariable(f"{expression} (no filter {name!r}; filters: {', '.join(FILTERS)})")
            value = FILTERS[name](value)
        return value

    def _base(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        relative = _RELATIVE.match(name)
        if relative:
            start: date | datetime = self.clock.today() if relative.group(1) == "today" else self.clock.now().replace(microsecond=0)
            if relative.group(2):
                amount = int(relative.group(3)) * (-1 if relative.group(2) == "-" else 1)
                unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[relative.group(4)]
                start = start + timedelta(**{unit: amount})
            return start
        if name == "run":
            return self.run_id
        if name == "target":
            return self.target
        head, _, rest = name.partition(".")
        if head == "persona" and rest:
            key, _, attribute = rest.rpartition(".")
            persona = self.personas.get(key)
            if persona is not None and attribute in persona:
                return persona[attribute]
        if head in self.values and rest:
            value = self.values[head]
            for part in rest.split("."):
                if not isinstance(value, dict) or part not in value:
                    raise UnknownVariable(name)
                value = value[part]
            return value
        raise UnknownVariable(name)

    def substitute(self, value: Any) -> Any:
        """``value`` with every ``${...}`` replaced, recursively through dicts and lists."""
        if isinstance(value, str):
            whole = _REF.fullmatch(value.strip()) if value.strip() == value else None
            if whole:
                found = self.lookup(whole.group(1))
                return found.isoformat() if isinstance(found, (date, datetime)) else found
            return _REF.sub(lambda m: text(self.lookup(m.group(1))), value)
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value


def persona_values(persona: Any) -> dict[str, Any]:
    """What ``${persona.KEY.…}`` offers of a sandbox persona."""
    return {"key": persona.key, "niss": persona.niss, "nihii": persona.nihii, "organisation": persona.organisation_nihii,
            "cbe": persona.organisation_cbe, "role": persona.role.value, "name": persona.display_name}


def pick_patient(registries: Any, personas: dict[str, Any], spec: dict[str, Any], *, salt: str, today: date) -> str:
    """A living sandbox patient with an active link to every persona in
    ``linked-with``, none of the personas themselves: the same for the same
    ``salt`` (run id + suite + variable), so a run can be reproduced, and
    most often another one for the next run, so runs do not share state."""
    wanted = [personas[k] for k in spec.get("linked-with", [])]
    excluded = {p.niss for p in personas.values()} | {personas[k].niss for k in spec.get("excluding", []) if k in personas}

    def linked(niss: str, persona: Any) -> bool:
        if persona.role.value == "pharmacist":
            return any(l.pharmacy_nihii == persona.organisation_nihii and l.active_on(today) for l in registries.pharmacy_links_of(niss))
        return any(l.professional_niss == persona.niss and l.active_on(today) for l in registries.links_of(niss))

    pool = sorted(p.niss for p in registries.patients()
                  if p.death_date is None and p.niss not in excluded and all(linked(p.niss, w) for w in wanted))
    if not pool:
        raise ValueError(f"no sandbox patient is linked with {', '.join(spec.get('linked-with', [])) or 'anyone'}")
    index = int(hashlib.sha256(salt.encode()).hexdigest(), 16) % len(pool)
    return pool[index]
