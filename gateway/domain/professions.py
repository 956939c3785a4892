"""Care-provider professions and whether each may act as ``provider`` in
Integrated Care (``integrated-care.md``, role ``provider``).

Codes are the eHealth STS quality names used in certified attribute URIs
(``urn:be:fgov:person:ssin:ehealth:1.0:nihii:{quality}:nihii11``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profession:
    code: str
    label: str  # plain English, for people
    hcparty: str  # the CD-HCPARTY code
    nihii_group: int
    may_use_integrated_care: bool
    hcparty_display: str = ""  # CD-HCPARTY's own display (HL7 Belgium be.core), where it differs from the label

    @property
    def display(self) -> str:
        """The display a CD-HCPARTY coding must carry (validators check it)."""
        return self.hcparty_display or self.label


PROFESSIONS: dict[str, Profession] = {
    p.code: p
    for p in (
        Profession("doctor", "physician", "persphysician", 1, True),
        Profession("dentist", "dentist", "persdentist", 3, True),
        Profession("physiotherapist", "physiotherapist", "persphysiotherapist", 5, True),
        Profession("nurse", "nurse", "persnurse", 4, True),
        Profession("midwife", "midwife", "persmidwife", 4, True),
        Profession("practicalnurse", "care assistant", "perspracticalnurse", 4, True, "practical nurse"),
        Profession("audiologist", "audiologist", "persaudiologist", 8, True),
        Profession("dietician", "dietitian", "persdietician", 8, True, "dietician"),
        Profession("occupationaltherapist", "occupational therapist", "persoccupationaltherapist", 8, True),
        Profession("logopedist", "speech therapist", "perslogopedist", 5, True, "logopedist"),
        Profession("orthoptist", "orthoptist", "persorthoptist", 8, True),
        Profession("podologist", "podiatrist", "perspodologist", 8, True, "podologist"),
        Profession("audician", "hearing-aid specialist", "persaudician", 8, True, "audician"),
        Profession("pharmacist", "pharmacist", "perspharmacist", 6, False),  # acts as `pharmacist`, through a pharmacy
        Profession("pharmacistassistant", "pharmacy assistant", "perspharmacyassistant", 8, False),
        Profession("labtechnologist", "laboratory technologist", "perslabtechnologist", 8, False, "medical lab technologist"),
        Profession("imagingtechnologist", "medical imaging technologist", "persmedicalimaging", 8, False),
        Profession("ambulancier", "patient transport", "persambulancefirstaid", 8, False, "ambulance first aid"),
    )
}


def may_act_as_provider(quality: str | None) -> bool:
    """True for the professions the Integrated Care authorisation lists."""
    profession = PROFESSIONS.get(quality or "")
    return bool(profession and profession.may_use_integrated_care)
