"""Is there a TRIO dossier for this person? (the domain's
:class:`~gateway.domain.rtw.ports.TrioDirectory`), asked the way RP-F9
allows: the NISS is blinded here, the pseudonymisation service raises the
blinded value to TRIO's domain key, the answer is unblinded here into the
person's pseudonym in TRIO's domain, and TRIO is asked with that pseudonym
only. The pseudonymisation service never sees the NISS (it is blinded) and
TRIO never sees it either."""

from __future__ import annotations

import httpx

from gateway import blinded_pseudonyms as blinding
from gateway.adapters import errors
from gateway.adapters.rtw_http import MachineToken
from gateway.adapters.rtw_sources import service

TRIO_DOMAIN = "uhmep_v1"


class PlatformTrio:
    def __init__(self, http: httpx.Client, base_url: str, token: MachineToken) -> None:
        self.pseudo = service(http, base_url, token, "pseudo")
        self.trio = service(http, base_url, token, "trio")

    def pseudonym(self, niss: str) -> str:
        """The person's pseudonym in TRIO's domain, through the blinded pseudonymisation service."""
        r, blinded = blinding.blind(niss, TRIO_DOMAIN)
        answer = self.pseudo.call({"blinded": blinding.encode(blinded)})
        try:
            evaluated = blinding.decode(str(answer.get("evaluated") or ""))
        except ValueError:
            raise self.pseudo.error(errors.ANSWER_INVALID, "the evaluated value is not a group element.") from None
        return blinding.encode(blinding.unblind(evaluated, r))

    def has_dossier(self, niss: str) -> bool:
        exists = self.trio.call({"pseudonym": self.pseudonym(niss)}).get("exists")
        if not isinstance(exists, bool):
            raise self.trio.error(errors.ANSWER_INVALID, "the answer has no boolean 'exists'.")
        return exists
