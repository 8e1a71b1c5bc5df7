"""The one rule for one-line texts such as names: no Flask, no database.

A name (of a person, an account, a facility or a network) and an address line travel
into mail headers (``To:``, ``Subject:``), calendar files and CSV exports. There a line
break ends the line and starts a new header, and other control characters corrupt or
hide what follows. So a one-line text holds no control character (Unicode category Cc:
NUL, tab, CR, LF, vertical tab, form feed, ESC, DEL, NEL U+0085 …), no line or paragraph
separator (Zl U+2028, Zp U+2029) and no lone surrogate (Cs, which cannot be encoded).

Every input path applies it: the forms (through ``learnnet.forms.OneLine``), the CSV
import and the mail builder, which refuses such a header from rows written before the rule.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def refused_characters(value: str) -> list[str]:
    """The characters of ``value`` a one-line text may not hold, each once, in order."""
    found: list[str] = []
    for char in value:
        if unicodedata.category(char) in REFUSED_CATEGORIES and char not in found:
            found.append(char)
    return found


def is_one_line(value: str) -> bool:
    """True when ``value`` holds no control character and no line separator."""
    return not any(unicodedata.category(c) in REFUSED_CATEGORIES for c in value)


def describe(chars: list[str]) -> str:
    """Characters as code points, e.g. "U+000D, U+000A", for a log or an error."""
    return ", ".join(f"U+{ord(c):04X}" for c in chars)
