"""The languages courrier knows: a person's register language, the letters' texts and the services' pages.

Defined once here, at the bottom of the layers, so the register, campaigns, the composer's checks and
the error catalogue agree.
"""

from __future__ import annotations

import re

# ISO 639-1 codes; Luxembourgish first, the country's own language.
LANGUAGES = ("lb", "fr", "de", "en", "pt")

# French sets a space before : ; ? ! and inside « », and a line must never begin with one of them: the
# space is a no-break one wherever French is printed or shown (the letters, the pages, the errors).
FRENCH_SPACES = re.compile(r" ([:;?!»])|(«) ")


def french_spacing(text: str) -> str:
    """``text`` with the spaces French sets before ``: ; ? !`` and inside « » made unbreakable
    (``Appelant\xa0: …``); its other spaces as they are."""
    return FRENCH_SPACES.sub(_no_break, text)


def _no_break(match: re.Match[str]) -> str:
    return f"\xa0{match.group(1)}" if match.group(1) else f"{match.group(2)}\xa0"
