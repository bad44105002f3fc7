"""The country courrier serves: its ISO code and the sources of its population register.

Defined once here, at the bottom of the layers (beside ``languages``), so the register, cohorts, the
composer's addresses, the presort and the reports agree on what is "at home".
"""

from __future__ import annotations

# ISO 3166-1 alpha-2. Mail at home is presorted by postcode and carries no country line.
HOME_COUNTRY = "LU"
# Where a register row comes from: rnpp, the national register of natural persons (residents); ccss,
# social security (cross-border workers, living abroad).
REGISTER_SOURCES = ("rnpp", "ccss")
