"""Name matching for the sandbox look-ups (AddressBook, consultRN).

:func:`fold` makes names comparable: no accents, no case, no spaces,
hyphens or apostrophes ("Van den Bossche" == "VANDENBOSSCHE").

:func:`phonetic_key` is the sandbox's phonetic key for consultRN's
phonetic search: a Soundex variant that suits Belgian surnames better than
classic Soundex by coding the *first* letter too (so "Claes"/"Klaas" and
"Cornelis"/"Kornelis" match) and by a few spelling rules first:

1. fold the name (above) and keep letters A-Z only;
2. rewrite ``SCH``->``S``, ``PH``->``F``, ``CK``/``CQ``/``QU``->``K``, ``DT``->``T``,
   ``TH``->``T``, ``IJ``->``Y``;
3. code each letter: B F P V W -> 1; C G J K Q S X Z -> 2; D T -> 3; L -> 4;
   M N -> 5; R -> 6; vowels, H and Y -> 0 (a separator);
4. drop repeats of the same code, then the separators;
5. keep the first four codes, padding with ``0``.

So "Peeters", "Pieters" and "Peters" are ``1362``; "Declercq" and
"De Clercq" ``3246``. It is not the register's own algorithm (which eHealth
does not publish); it is documented so that a vendor can predict a match.
"""

from __future__ import annotations

import re
import unicodedata

_CODES = {**dict.fromkeys("BFPVW", "1"), **dict.fromkeys("CGJKQSXZ", "2"), **dict.fromkeys("DT", "3"), "L": "4",
          **dict.fromkeys("MN", "5"), "R": "6"}
_RULES = (("SCH", "S"), ("PH", "F"), ("CK", "K"), ("CQ", "K"), ("QU", "K"), ("DT", "T"), ("TH", "T"), ("IJ", "Y"))
KEY_LENGTH = 4


def fold(name: str) -> str:
    """Lower case, no accents, no spaces, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s'\-’.]", "", bare).lower()


def phonetic_key(name: str) -> str:
    """The sandbox phonetic key of a name (see the module docstring)."""
    letters = re.sub(r"[^A-Z]", "", fold(name).upper())
    for old, new in _RULES:
        letters = letters.replace(old, new)
    codes: list[str] = []
    for letter in letters:
        code = _CODES.get(letter, "0")
        if not codes or codes[-1] != code:
            codes.append(code)
    key = "".join(code for code in codes if code != "0")[:KEY_LENGTH]
    return key.ljust(KEY_LENGTH, "0")
