"""The national register's client (consultRN): a person by current or
former number, with deaths (IC-R9, IC-F1), and the mutation feed read
from a sequence number (IC-R4 deaths, IC-R5 NISS changes)."""

from __future__ import annotations

from gateway.domain.identifiers import NissKind, make_niss
from gateway.domain.ports import MutationKind


def test_IC_R9_people_are_the_registers(side, personas):
    for key in ("patient", "patient-2", "deceased-patient", "bis-patient", "gp"):
        niss = personas[key].niss
        assert side.adapters.register.person(niss) == side.truth.register.person(niss), key
    assert side.adapters.register.person(personas["deceased-patient"].niss).deceased
    assert side.adapters.register.person("19234011004") is None  # not a NISS: nothing asked
    assert side.adapters.register.person("85073003328") == side.truth.register.person("85073003328")


def test_IC_R4_IC_R5_the_feed_and_a_former_number(in_process, personas, registries):
    register, truth = in_process.adapters.register, in_process.truth.register
    bis = truth.person(personas["bis-patient"].niss)
    new = next(n for n in (make_niss(bis.birth_date, c, bis=NissKind.NATIONAL) for c in range(901, 999))
               if registries.person(n) is None)
    truth.inject_niss_change(bis.niss, new, in_process.clock.today())
    truth.inject_death(personas["patient-2"].niss, in_process.clock.today())
    feed = register.mutations_after(0)
    assert list(feed) == list(truth.mutations_after(0)) and {m.kind for m in feed} == {MutationKind.DEATH, MutationKind.NISS_CHANGE}
    assert list(register.mutations_after(feed[0].seq)) == list(feed[1:])
    assert register.mutations_after(feed[-1].seq) == ()
    assert list(register.mutations_after(0, limit=1)) == list(feed[:1])
    person = register.person(bis.niss)  # the former number finds the person under the new one
    assert person is not None and person.niss == new and bis.niss in person.previous_niss
    assert in_process.calls.count("consultRN/v1", "GetMutations") == 4
