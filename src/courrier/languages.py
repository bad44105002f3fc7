"""The languages courrier knows: a person's register language, the letters' texts and the services' pages.

Defined once here, at the bottom of the layers, so the register, campaigns, the composer's checks and
the error catalogue agree.
"""

from __future__ import annotations

# ISO 639-1 codes; Luxembourgish first, the country's own language.
LANGUAGES = ("lb", "fr", "de", "en", "pt")
