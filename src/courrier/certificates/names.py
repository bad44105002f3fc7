"""Names in the machine-readable form of ICAO Doc 9303 part 3 (``fnt``/``gnt`` of the payload).

Upper-case A-Z and ``<``: the recommended transliterations of section 6 (Ä → AE, Ö → OE, Ü → UE,
Å → AA, Æ → AE, Ø → OE, ß → SS, Þ → TH, Œ → OE, Ł → L, Đ → D, ...), other accented Latin letters
without their marks (Ô → O, Ğ → G), Cyrillic and Greek by the ICAO tables (Ф → F, Ё → E, Ж → ZH,
Щ → SHCH; Ω → O, Ή → I, Θ → TH). Spaces and hyphens become the filler ``<`` (one, none at the ends);
apostrophes and other punctuation are left out. At most 80 characters (the schema's limit).
"""

from __future__ import annotations

import unicodedata

from courrier.errors import InputFileError

MAX_LENGTH = 80

_LATIN = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS", "ẞ": "SS",
    "Þ": "TH", "Œ": "OE", "Ĳ": "IJ", "Ł": "L", "Đ": "D", "Ð": "D", "Ħ": "H", "İ": "I",
    "Ŀ": "L", "Ŋ": "N", "Ŧ": "T", "ĸ": "K",
}  # fmt: skip
_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ѓ": "G", "Ђ": "D", "Е": "E",
    "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I", "Ї": "I", "Й": "I",
    "Ј": "J", "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N", "Њ": "NJ", "О": "O", "П": "P",
    "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K", "У": "U", "Ў": "U", "Ф": "F", "Х": "KH",
    "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "",
    "Э": "E", "Ю": "IU", "Я": "IA",
}  # fmt: skip
_GREEK = {
    "Α": "A", "Ά": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Έ": "E", "Ζ": "Z", "Η": "I",
    "Ή": "I", "Θ": "TH", "Ι": "I", "Ί": "I", "Ϊ": "I", "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N",
    "Ξ": "X", "Ο": "O", "Ό": "O", "Π": "P", "Ρ": "R", "Σ": "S", "Τ": "T", "Υ": "Y", "Ύ": "Y",
    "Ϋ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O", "Ώ": "O",
}  # fmt: skip
_TABLE = {**_LATIN, **_CYRILLIC, **_GREEK}
_FILLERS = {" ", "-", "‐", "‑", "–", "\t"}
_LEFT_OUT = {"'", "’", "ʼ", "‘", "`", "´", ".", ",", "(", ")"}


def icao_transliterate(name: str) -> str:
    """``name`` as ICAO 9303 writes it (see the module docstring); an empty name gives ``""``."""
    out: list[str] = []
    for character in unicodedata.normalize("NFC", name).upper():
        if "A" <= character <= "Z" or character == "<":
            out.append(character)
        elif character in _TABLE:
            out.append(_TABLE[character])
        elif character in _FILLERS:
            out.append("<")
        elif character in _LEFT_OUT:
            continue
        else:
            base = "".join(c for c in unicodedata.normalize("NFD", character) if "A" <= c <= "Z")
            if not base:
                raise InputFileError(
                    f"{name!r}: no ICAO 9303 transliteration for {character!r}",
                    code="dcc_bad_name",
                )
            out.append(base)
    collapsed = "<".join(part for part in "".join(out).split("<") if part)
    return collapsed[:MAX_LENGTH].rstrip("<")
