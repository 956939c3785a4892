"""The person an act is about, whatever number the caller gives.

The national register knows a person's current NISS and their former ones
(a BIS number replaced by a national number, corrections). Data follow the
person to the current number (IC-R5, :mod:`gateway.domain.lifecycle`), so
every use case that names a patient resolves the given number to the
current one before it pseudonymises it: a search by a former number finds
what a search by the current one finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.context import DomainContext
from gateway.domain.inclusions import check_patient_niss
from gateway.domain.ports import PersonRecord
from gateway.domain.principal import Principal


@dataclass(frozen=True)
class Subject:
    niss: str  # the current number (the given one when the register does not know the person)
    pseudonym: str  # of the current number
    person: PersonRecord | None
    same_person: bool  # is the caller this person, under any of their numbers?

    @property
    def numbers(self) -> tuple[str, ...]:
        """Every number of the person, current first."""
        if self.person is None:
            return (self.niss,)
        return (self.person.niss, *self.person.previous_niss)


def subject_of(ctx: DomainContext, principal: Principal, niss: str, path: str = "patient.niss") -> Subject:
    given = check_patient_niss(niss, path)
    person = ctx.register.person(given)
    current = person.niss if person else given
    same = person is not None and principal.niss in (person.niss, *person.previous_niss)
    return Subject(current, ctx.pseudonyms.pseudonymise(current), person, same or principal.niss == given)
