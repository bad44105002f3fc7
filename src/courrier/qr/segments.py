"""A QR code's data codewords: the content cut into numeric, alphanumeric and byte segments.

Bit layout (ISO/IEC 18004 section 7.4): an optional ECI header (0111, then the designator in 8 bits);
per segment a 4-bit mode (0001 numeric, 0010 alphanumeric, 0100 byte), the character count (width by
mode and version class, ``COUNT_BITS``), then the characters: 10 bits per 3 digits (4 or 7 for the last
1 or 2), 11 bits per 2 alphanumeric characters (45a + b; 6 for a last single one), 8 bits per byte;
then the terminator (up to 4 zero bits), zero bits to a byte boundary and the pad bytes 0xEC 0x11.

Text in ASCII is written as it is, without ECI; other text as ISO-8859-1 bytes under ECI 3 when it
fits, else UTF-8 under ECI 26, so that a decoder never has to guess the character set.

The segments are chosen, as zxing-cpp's encoder (zint) chooses them, to take the fewest bits: a
shortest path over the content's runs of digits, other alphanumeric characters and other bytes, each
run written in its own mode or a wider one (digits as alphanumeric or bytes, alphanumeric as bytes),
a new segment costing its header. The path depends only on the runs' classes and lengths, so it is
cached by the content's class string; for a whole letter run the contents have one or a few shapes
(a URL with a code at its end, a token), so it is worked out once. Runs of fewer than 4 digits (7 in
alphanumeric text) never gain from numeric mode: their header costs more than the bits they save, so
they are classed with the alphanumeric characters and the class strings stay few.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np

from courrier.qr.tables import BLOCKS

NUMERIC, ALPHANUMERIC, BYTE = 0b0001, 0b0010, 0b0100
ALPHANUMERIC_SET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# Character count indicator widths for versions 1-9, 10-26 and 27-40.
COUNT_BITS = {NUMERIC: (10, 12, 14), ALPHANUMERIC: (9, 11, 13), BYTE: (8, 16, 16)}
VERSION_CLASSES = (range(1, 10), range(10, 27), range(27, 41))
ECI_LATIN_1, ECI_UTF_8 = 3, 26

_ALNUM = ALPHANUMERIC_BYTES = ALPHANUMERIC_SET.encode("ascii")
_OTHER = bytes(sorted(set(range(256)) - set(_ALNUM)))
_ALNUM_VALUES = bytes.maketrans(_ALNUM, bytes(range(45)))
_CLASSES = bytes.maketrans(_ALNUM + _OTHER, b"N" * 10 + b"A" * 35 + b"B" * len(_OTHER))
_CLASSES_DIGITS_AS_ALNUM = bytes.maketrans(_ALNUM + _OTHER, b"A" * 45 + b"B" * len(_OTHER))
_DIGITS_AMONG_BYTES = re.compile(rb"[0-9]{4}")
_DIGITS_AMONG_ALNUM = re.compile(rb"[0-9]{7,}")
_INNER_DIGITS = 13  # see _alphanumeric_classes
_RUNS = re.compile(rb"N+|A+|B+")
# Bits per character in sixths of a bit (numeric 10/3, alphanumeric 11/2, byte 8), for the search.
_SIXTHS = {NUMERIC: 20, ALPHANUMERIC: 33, BYTE: 48}
_MODES_FOR = {ord("N"): (NUMERIC, ALPHANUMERIC, BYTE), ord("A"): (ALPHANUMERIC, BYTE), ord("B"): (BYTE,)}
_PADDING = b"\xec\x11" * 1500
# Alphanumeric pieces from this length on are written by array operations (_alphanumeric_bits); shorter
# ones, a letter's URLs and tokens, by the loop, cheaper for them.
_LONG_ALPHANUMERIC = 96
_SIX_BITS = np.unpackbits(np.arange(0, 180, 4, dtype=np.uint8)[:, None], axis=1)[:, :6]  # a value's 6 bits

Segment = tuple[int, int, int]  # mode, start, end (in the content's bytes)


class Piece(NamedTuple):
    mode: int
    header: int  # the mode and the character count, as bits
    header_bits: int
    start: int
    end: int


class Plan(NamedTuple):
    """How every content of one class string is written: what is the same for all of them."""

    version: int
    eci: int
    pieces: tuple[Piece, ...]
    closing_bits: int  # terminator and zero bits to the byte boundary
    length: int  # data codewords before the pad codewords
    padding: bytes


def content_bytes(content: str) -> tuple[bytes, int]:
    """The content's bytes and the ECI designator they need (0: none, ASCII)."""
    try:
        return content.encode("ascii"), 0
    except UnicodeEncodeError:
        try:
            return content.encode("latin-1"), ECI_LATIN_1
        except UnicodeEncodeError:
            return content.encode("utf-8"), ECI_UTF_8


def class_string(data: bytes) -> bytes:
    """One letter per byte: N a digit, A another alphanumeric character, B any other byte; digits
    count as alphanumeric where no run of them is long enough to gain from numeric mode (see the
    module docstring), so that contents of one shape share a plan."""
    if data.isdigit() or _DIGITS_AMONG_BYTES.search(data) is not None:
        alphanumeric_only = not data.translate(None, _ALNUM)
        if not alphanumeric_only or data.isdigit():
            return data.translate(_CLASSES)
        if _DIGITS_AMONG_ALNUM.search(data) is not None:
            return _alphanumeric_classes(data)
    return data.translate(_CLASSES_DIGITS_AS_ALNUM)


def _alphanumeric_classes(data: bytes) -> bytes:
    """The classes of alphanumeric-only ``data`` (not all digits) with a run of 7 digits or more:
    N only for the runs that numeric mode could shorten. Cutting an alphanumeric segment around d
    digits saves 13/6 bits a digit and costs a numeric header (14 bits at least) where the run is at
    an end of the content, that and an alphanumeric header (27 bits at least) inside it, so runs of
    fewer than 7 digits at an end and 13 inside are written in alphanumeric mode whatever their
    classes: as A they give the same segments, and contents such as ``HC1:`` strings (base45, often
    with 7 digits in a row somewhere) keep sharing one plan per length."""
    classes = bytearray(data.translate(_CLASSES_DIGITS_AS_ALNUM))
    for run in _DIGITS_AMONG_ALNUM.finditer(data):
        start, end = run.span()
        if end - start >= _INNER_DIGITS or start == 0 or end == len(data):
            classes[start:end] = b"N" * (end - start)
    return bytes(classes)


@functools.lru_cache(maxsize=1024)
def plan(classes: bytes, eci: int, level: str) -> Plan:
    """The smallest version that holds a content of these ``classes`` at error correction ``level``
    (L, M, Q, H) and its segments; ``ValueError`` when even version 40 cannot."""
    for version_class, versions in enumerate(VERSION_CLASSES):
        pieces = _pieces(_cheapest(classes, version_class), version_class)
        bits = sum(piece.header_bits + _character_bits(piece) for piece in pieces) + (12 if eci else 0)
        for version in versions:
            capacity = capacity_codewords(version, level)
            if bits <= 8 * capacity:
                closing = min(4, 8 * capacity - bits)
                closing += -(bits + closing) % 8
                length = (bits + closing) // 8
                return Plan(version, eci, tuple(pieces), closing, length, _PADDING[: capacity - length])
    raise ValueError(f"{len(classes)} bytes of content do not fit a QR code at level {level}")


def data_codewords(data: bytes, plan: Plan) -> bytes:
    """The data codewords of ``data`` (the content's bytes) written by its ``plan``."""
    value = (0b0111 << 8 | plan.eci) if plan.eci else 0
    for mode, header, header_bits, start, end in plan.pieces:
        value = value << header_bits | header
        piece = data[start:end]
        if mode == BYTE:
            value = value << 8 * len(piece) | int.from_bytes(piece, "big")
        elif mode == ALPHANUMERIC and len(piece) >= _LONG_ALPHANUMERIC:
            value = value << _character_bits_alphanumeric(len(piece)) | _alphanumeric_bits(piece)
        elif mode == ALPHANUMERIC:
            values = piece.translate(_ALNUM_VALUES)
            for first, second in zip(values[::2], values[1::2]):  # noqa: B905 (an odd last one below)
                value = value << 11 | (first * 45 + second)
            if len(values) & 1:
                value = value << 6 | values[-1]
        else:
            for i in range(0, len(piece) - 2, 3):
                value = value << 10 | int(piece[i : i + 3])
            rest = len(piece) % 3
            if rest:
                value = value << (3 * rest + 1) | int(piece[-rest:])
    value <<= plan.closing_bits
    return value.to_bytes(plan.length, "big") + plan.padding


def _alphanumeric_bits(piece: bytes) -> int:
    """The characters of an alphanumeric ``piece`` as one int of 11 bits a pair (6 for an odd last
    one), by array operations: what the loop in :func:`data_codewords` makes, at a tenth of its
    cost for an ``HC1:`` string (the loop shifts an ever longer int for each pair)."""
    values = np.frombuffer(piece.translate(_ALNUM_VALUES), dtype=np.uint8)
    pairs = len(values) // 2
    words = values[: 2 * pairs : 2].astype(np.uint16) * 45 + values[1 : 2 * pairs : 2]
    # Each pair's 11 bits at the top of a big-endian 16-bit word; the words' bits, 11 of 16 kept.
    bits = np.unpackbits((words << 5).astype(">u2").view(np.uint8)).reshape(pairs, 16)[:, :11].reshape(-1)
    if len(values) & 1:
        bits = np.concatenate((bits, _SIX_BITS[values[-1]]))
    packed = np.packbits(bits).tobytes()
    return int.from_bytes(packed, "big") >> (-len(bits) % 8)


def _character_bits_alphanumeric(length: int) -> int:
    return 11 * (length // 2) + 6 * (length % 2)


@functools.cache
def capacity_codewords(version: int, level: str) -> int:
    return sum(count * size for count, size in BLOCKS[level][version - 1][1])


@functools.lru_cache(maxsize=512)
def _cheapest(classes: bytes, version_class: int) -> tuple[Segment, ...]:
    """The segments of least bits for a content of these character classes (N digit, A other
    alphanumeric, B other byte): a shortest path over its runs, the state being the current mode."""
    runs = [(run.start(), run.end(), classes[run.start()]) for run in _RUNS.finditer(classes)]
    header = {mode: 6 * (4 + COUNT_BITS[mode][version_class]) for mode in _SIXTHS}
    costs: dict[int, int] = {}
    choices: list[dict[int, int]] = []  # per run: mode -> the previous run's mode on the best path
    for start, end, kind in runs:
        new_costs, came_from = {}, {}
        for mode in _MODES_FOR[kind]:
            characters = (end - start) * _SIXTHS[mode]
            if not costs:
                new_costs[mode], came_from[mode] = header[mode] + characters, 0
                continue
            previous = min(costs, key=lambda before: costs[before] + (0 if before == mode else header[mode]))
            new_costs[mode] = costs[previous] + (0 if previous == mode else header[mode]) + characters
            came_from[mode] = previous
        costs = new_costs
        choices.append(came_from)
    if not runs:
        return ((ALPHANUMERIC, 0, 0),)
    modes = [min(costs, key=costs.__getitem__)]
    for came_from in reversed(choices[1:]):
        modes.append(came_from[modes[-1]])
    modes.reverse()
    segments: list[Segment] = []
    for (start, end, _), mode in zip(runs, modes, strict=True):
        if segments and segments[-1][0] == mode:
            segments[-1] = (mode, segments[-1][1], end)
        else:
            segments.append((mode, start, end))
    return tuple(segments)


def _pieces(segments: tuple[Segment, ...], version_class: int) -> list[Piece]:
    """The segments, split where a count would not fit its width, with their headers."""
    pieces = []
    for mode, start, end in segments:
        width = COUNT_BITS[mode][version_class]
        longest = (1 << width) - 1
        for piece_start in range(start, max(end, start + 1), longest):
            piece_end = min(end, piece_start + longest)
            pieces.append(
                Piece(mode, mode << width | (piece_end - piece_start), 4 + width, piece_start, piece_end)
            )
    return pieces


def _character_bits(piece: Piece) -> int:
    length = piece.end - piece.start
    if piece.mode == NUMERIC:
        return 10 * (length // 3) + (0, 4, 7)[length % 3]
    if piece.mode == ALPHANUMERIC:
        return 11 * (length // 2) + 6 * (length % 2)
    return 8 * length
