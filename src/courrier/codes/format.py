"""The printed personal code: alphabet, check character, parsing and formatting.

A code is 13 random characters and one check character, printed in groups of four::

    ABCD-EFGH-JKMN-PP

The alphabet has 31 characters, ``23456789ABCDEFGHJKMNPQRSTUVWXYZ``: no 0/O, no 1/I/L, which look alike
on bad printers and in bad handwriting. 13 characters of 31 give 31**13 ≈ 2**64.4 codes.

Check character: number the 14 characters 1..14 (the check character is the 14th) and give each
character its index ``v`` in the alphabet. The check character is chosen so that

    sum(position * v) ≡ 0  (mod 31)

Because 31 is prime and every weight 1..14 is non-zero mod 31:

- changing one character at position ``p`` from ``a`` to ``b`` changes the sum by ``p*(a-b)``, never 0
  mod 31: every single substitution is caught, the check character's own included;
- swapping neighbours at ``p`` and ``p+1`` changes it by ``(p - (p+1))*(a-b) = b-a``, never 0 mod 31
  when ``a != b``: every adjacent transposition is caught.

Input is accepted in upper or lower case, with or without dashes and spaces.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from courrier.errors import CodeError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)
BODY_LENGTH = 13
CODE_LENGTH = BODY_LENGTH + 1
GROUP = 4

_VALUE = {character: value for value, character in enumerate(ALPHABET)}
_CHECK_WEIGHT_INVERSE = pow(CODE_LENGTH, -1, BASE)
# Random codes are drawn from 72-bit integers; the few above the largest multiple of 31**13 are drawn
# again so that every code is equally likely.
_SPACE = BASE**BODY_LENGTH
_DRAW_BYTES = 9
_ACCEPT_BELOW = (1 << (8 * _DRAW_BYTES)) // _SPACE * _SPACE

RandomBytes = Callable[[int], bytes]


def check_character(body: str) -> str:
    """The check character completing the 13-character ``body`` (which must be in the alphabet)."""
    total = sum(position * _VALUE[character] for position, character in enumerate(body, start=1))
    return ALPHABET[(-total * _CHECK_WEIGHT_INVERSE) % BASE]


def normalise(text: str) -> str:
    """Upper case, dashes and white space removed."""
    return "".join(text.split()).replace("-", "").upper()


def parse_code(text: str) -> str:
    """The compact code (14 characters) of a typed code; a :class:`CodeError` says where it is wrong.

    Error codes: ``wrong_length``, ``bad_character`` (with the 1-based position), ``bad_check_character``.
    """
    code = normalise(text)
    if len(code) != CODE_LENGTH:
        raise CodeError(
            f"a code has {CODE_LENGTH} characters (dashes and spaces aside), this one has {len(code)}",
            code="wrong_length",
        )
    for position, character in enumerate(code, start=1):
        if character not in _VALUE:
            hint = " (codes never use 0, 1, I, L or O)" if character in "01ILO" else ""
            raise CodeError(
                f"character {position} ({character!r}) is not one a code uses{hint}", code="bad_character"
            )
    total = sum(position * _VALUE[character] for position, character in enumerate(code, start=1))
    if total % BASE:
        raise CodeError(
            "the check character (the last one) does not match: a character is mistyped or two are swapped",
            code="bad_check_character",
        )
    return code


def format_code(code: str) -> str:
    """``ABCDEFGHJKMNPP`` → ``ABCD-EFGH-JKMN-PP`` (as printed on the letter)."""
    compact = normalise(code)
    return "-".join(compact[start : start + GROUP] for start in range(0, len(compact), GROUP))


def random_codes(count: int, randbytes: RandomBytes = secrets.token_bytes) -> list[str]:
    """``count`` new compact codes (13 uniformly random characters + check character)."""
    codes: list[str] = []
    alphabet = ALPHABET
    while len(codes) < count:
        needed = count - len(codes)
        pool = randbytes(_DRAW_BYTES * needed)
        for start in range(0, len(pool), _DRAW_BYTES):
            number = int.from_bytes(pool[start : start + _DRAW_BYTES], "big")
            if number >= _ACCEPT_BELOW:
                continue
            number %= _SPACE
            characters = []
            total = 0
            for position in range(BODY_LENGTH, 0, -1):
                number, value = divmod(number, BASE)
                characters.append(alphabet[value])
                total += position * value
            characters.reverse()
            characters.append(alphabet[(-total * _CHECK_WEIGHT_INVERSE) % BASE])
            codes.append("".join(characters))
    return codes
