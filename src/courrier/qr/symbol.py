"""A QR code's symbol from its data codewords: error correction, interleaving, placement, mask.

- error correction: Reed-Solomon over GF(256) (polynomial 0x11D) for each block, as one table lookup
  per data position (the code is linear: each data byte adds its own remainder) and an XOR; a group's
  shorter blocks are read with a leading zero codeword, which leaves their remainder as it is, so all
  blocks of a symbol are worked out in one lookup;
- placement: the function patterns, format and version information are the same for every symbol of
  a version, level and mask, so the symbol is a cached template with the interleaved codewords' bits
  written in the cached zigzag order of the data modules, masked (ISO/IEC 18004 sections 7.6 to 7.9);
- mask: the one asked for, or (``mask=None``) the one of the eight whose symbol scores the fewest
  penalty points by the standard's four rules (section 7.8.3), as an encoder's own choice.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from courrier.qr.segments import (
    ALPHANUMERIC_BYTES,
    capacity_codewords,
    class_string,
    content_bytes,
    data_codewords,
    plan,
)
from courrier.qr.tables import BLOCKS

EC_LEVELS = ("L", "M", "Q", "H")
MASKS = tuple(range(8))
_FORMAT_LEVEL_BITS = {"L": 0b01, "M": 0b00, "Q": 0b11, "H": 0b10}


# The largest table of image rows kept per version, level and mask (see ``qr_image``): versions 1 to 5
# at level M, the sizes of codes and URLs.
IMAGE_TABLE_LIMIT_BYTES = 4_000_000


def qr_matrix(
    content: str, level: str = "M", mask: int | None = 2, *, alphanumeric: bool = False
) -> np.ndarray:
    """The symbol of ``content`` at error correction ``level`` as a boolean array, True for a dark
    module, without the quiet zone. ``ValueError`` when the content does not fit version 40.
    ``alphanumeric``: in one alphanumeric segment whatever the content's digits (an EU DCC's
    ``HC1:`` string, as its specification asks); ``ValueError`` for a character outside that set."""
    version, data = _encoded(content, level, mask, alphanumeric)
    return _matrix(version, data, level, mask)


def _matrix(version: int, data: bytes, level: str, mask: int | None) -> np.ndarray:
    layout = _symbol_layout(version, level)
    bits = np.unpackbits(_codeword_stream(data, version, level))[layout.sources]
    if mask is None:
        symbols = layout.templates ^ bits
        # The first of the least penalised, as min() over the masks in order would pick.
        chosen: np.ndarray = symbols[int(np.argmin(penalties(symbols.view(bool))))].view(bool)
        return chosen
    symbol: np.ndarray = (layout.templates[mask] ^ bits).view(bool)
    return symbol


def qr_image(content: str, level: str = "M", mask: int | None = 2) -> tuple[int, bytes]:
    """The symbol's modules per side, and the symbol as a 1-bit image: one row after the other, a
    set bit for a light module (what a PDF image mask paints as background), each row padded with
    zero bits to a byte: ``np.packbits(~qr_matrix(...), axis=1)``.

    The same without the matrix for small symbols: everything after the data codewords (error
    correction, interleaving, placement, mask) is linear over GF(2), so the image is a constant
    (the masked template) XOR, for each data codeword, the image bits its value flips, looked up in
    a table made once per version, level and mask (a Python int per codeword position and value;
    XOR of ints is the cheapest per-letter work Python has)."""
    version, data = _encoded(content, level, mask)
    table = None if mask is None else _image_table(version, level, mask)
    if table is None:
        symbol = _matrix(version, data, level, mask)
        return len(symbol), np.packbits(~symbol, axis=1).tobytes()
    image, flips = table.base, table.flips
    for position, value in enumerate(data):
        image ^= flips[position][value]
    return table.modules, image.to_bytes(table.length, "big")


def _encoded(content: str, level: str, mask: int | None, alphanumeric: bool = False) -> tuple[int, bytes]:
    """The version and the data codewords of ``content``."""
    if level not in EC_LEVELS:
        raise ValueError(f"error correction level {level!r} is not one of {', '.join(EC_LEVELS)}")
    if mask is not None and mask not in MASKS:
        raise ValueError(f"mask {mask!r} is not one of 0 to 7")
    data, eci = content_bytes(content)
    if alphanumeric:
        if eci or data.translate(None, ALPHANUMERIC_BYTES):
            raise ValueError(f"{content[:40]!r}: not only QR alphanumeric characters")
        written = plan(b"A" * len(data), 0, level)
    else:
        written = plan(class_string(data), eci, level)
    return written.version, data_codewords(data, written)


class _ImageTable(NamedTuple):
    modules: int
    length: int  # bytes of the image
    base: int  # the image of all-zero data codewords (the masked template), as one big-endian int
    flips: list[list[int]]  # [data codeword position][value] -> the image bits that value flips


@functools.cache
def _image_table(version: int, level: str, mask: int) -> _ImageTable | None:
    modules = 17 + 4 * version
    length = modules * ((modules + 7) // 8)
    codewords = capacity_codewords(version, level)
    if codewords * 256 * length > IMAGE_TABLE_LIMIT_BYTES:
        return None
    layout = _layout(version, level, mask)
    base = int.from_bytes(np.packbits(~layout.template, axis=1).tobytes(), "big")
    flips = []
    for position in range(codewords):
        # The bits one set bit of this codeword flips (k = 0 the most significant)...
        by_bit = []
        for k in range(8):
            unit = bytearray(codewords)
            unit[position] = 0x80 >> k
            placed = np.zeros(modules * modules, dtype=bool)
            placed[layout.positions] = np.unpackbits(_with_error_correction(bytes(unit), version, level))
            packed = np.packbits(placed.reshape(modules, modules), axis=1).tobytes()
            by_bit.append(int.from_bytes(packed, "big"))
        # ... and those of every value, the XOR of its bits'.
        row = [0] * 256
        for value in range(1, 256):
            lowest = value & -value
            row[value] = row[value ^ lowest] ^ by_bit[8 - lowest.bit_length()]
        flips.append(row)
    return _ImageTable(modules, length, base, flips)


class _Correction(NamedTuple):
    blocks: np.ndarray  # (blocks, longest block) indices into the data codewords and a zero after them
    offsets: np.ndarray  # (blocks, longest block): a codeword's row in ``table`` is its offset + its value
    table: np.ndarray  # [position * 256 + byte] -> that byte's remainder there, as 8-byte words
    transmission: np.ndarray  # indices into the codeword stream (_codeword_stream), in transmission order


def _codeword_stream(data: bytes, version: int, level: str) -> np.ndarray:
    """The data codewords, a zero codeword, then each block's error correction codewords (in words
    of 8 bytes, zero-padded): what ``_Correction.transmission`` and ``_SymbolLayout.sources`` index."""
    plan = _correction(version, level)
    codewords = np.frombuffer(data + b"\0", dtype=np.uint8)
    remainders = np.bitwise_xor.reduce(plan.table[plan.offsets + codewords[plan.blocks]], axis=1)
    stream: np.ndarray = np.concatenate((codewords, remainders.view(np.uint8).reshape(-1)))
    return stream


def _with_error_correction(data: bytes, version: int, level: str) -> np.ndarray:
    """The data and error correction codewords in transmission order."""
    ordered: np.ndarray = _codeword_stream(data, version, level)[_correction(version, level).transmission]
    return ordered


@functools.lru_cache(maxsize=64)
def _correction(version: int, level: str) -> _Correction:
    ecc_length, groups = BLOCKS[level][version - 1]
    zero = capacity_codewords(version, level)
    longest = max(size for _, size in groups)
    blocks, start = [], 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(list(range(start, start + size)))
            start += size
    # Transmission order: the i-th data codeword of every block, then the i-th ECC codeword of every block.
    order = [block[i] for i in range(longest) for block in blocks if i < len(block)]
    blocks = [[zero] * (longest - len(block)) + block for block in blocks]
    words = -(-ecc_length // 8)
    first_ecc = zero + 1
    order += [first_ecc + b * 8 * words + i for i in range(ecc_length) for b in range(len(blocks))]
    table = np.zeros((longest, 256, 8 * words), dtype=np.uint8)
    table[:, :, :ecc_length] = _remainder_table(longest, ecc_length)
    offsets = np.broadcast_to(256 * np.arange(longest, dtype=np.intp), (len(blocks), longest))
    return _Correction(
        blocks=np.array(blocks, dtype=np.intp),
        offsets=np.ascontiguousarray(offsets),
        table=table.reshape(longest * 256, 8 * words).view(np.uint64),
        transmission=np.array(order, dtype=np.intp),
    )


class _SymbolLayout(NamedTuple):
    templates: np.ndarray  # (mask, side, side) 0/1: _Layout.template of each mask
    sources: np.ndarray  # (side, side): per module, the bit of the codeword stream it shows (a zero bit
    # for function patterns and remainder modules, which the template holds)


@functools.lru_cache(maxsize=64)
def _symbol_layout(version: int, level: str) -> _SymbolLayout:
    """Placement as one gather: a symbol is its mask's template XOR the codeword stream's bits, taken
    at ``sources`` (the data modules' bits are their codewords' bits XOR the mask, which the template
    holds there; every other module takes a bit of the zero codeword)."""
    layouts = [_layout(version, level, mask) for mask in MASKS]
    size = len(layouts[0].template)
    plan = _correction(version, level)
    sources = np.full(size * size, 8 * capacity_codewords(version, level), dtype=np.intp)
    sources[layouts[0].positions] = (8 * plan.transmission[:, None] + np.arange(8)).reshape(-1)
    return _SymbolLayout(
        templates=np.stack([layout.template for layout in layouts]).astype(np.uint8),
        sources=sources.reshape(size, size),
    )


@functools.cache
def _gf_tables() -> tuple[np.ndarray, np.ndarray]:
    exp = np.zeros(512, dtype=np.int64)
    log = np.zeros(256, dtype=np.int64)
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    exp[255:510] = exp[:255]
    return exp, log


def _multiply(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    exp, log = _gf_tables()
    return int(exp[log[a] + log[b]])


@functools.cache
def _remainder_table(data_length: int, ecc_length: int) -> np.ndarray:
    """[position, byte] -> the remainder a lone ``byte`` at ``position`` leaves (ecc_length bytes)."""
    exp, log = _gf_tables()
    generator = [1]
    for power in range(ecc_length):
        root = int(exp[power])
        product = [0] * (len(generator) + 1)
        for i, coefficient in enumerate(generator):
            product[i] ^= coefficient
            product[i + 1] ^= _multiply(coefficient, root)
        generator = product
    # The remainder of a 1 at each position; a byte b there leaves b times it (the code is linear).
    units = np.zeros((data_length, ecc_length), dtype=np.int64)
    remainder = _times_x_mod([0] * (ecc_length - 1) + [1], generator, shifts=ecc_length)
    for position in range(data_length - 1, -1, -1):  # a 1 at the last position, x^ecc mod g, then x times it
        units[position] = remainder
        remainder = _times_x_mod(remainder, generator, shifts=1)
    byte_logs = log[np.arange(256)][None, :, None]
    unit_logs = log[units][:, None, :]
    table = exp[byte_logs + unit_logs]
    table[:, 0, :] = 0
    table[np.broadcast_to(units[:, None, :] == 0, table.shape)] = 0
    result: np.ndarray = table.astype(np.uint8)
    return result


def _times_x_mod(remainder: list[int], generator: list[int], shifts: int) -> list[int]:
    """``remainder`` (highest power first) times x to the ``shifts``, modulo the generator."""
    for _ in range(shifts):
        factor = remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            for i in range(len(remainder)):
                remainder[i] ^= _multiply(generator[i + 1], factor)
    return remainder


class _Layout(NamedTuple):
    template: np.ndarray  # function patterns, format and version information; data modules masked zeros
    positions: np.ndarray  # flat indices of the data modules in placement order, one per codeword bit
    mask_bits: np.ndarray  # the mask at those positions (0 or 1)


@functools.cache
def _layout(version: int, level: str, mask: int) -> _Layout:
    dark = _function_patterns(version)[0].copy()
    size = len(dark)
    _put_format(dark, (_FORMAT_LEVEL_BITS[level] << 3) | mask)
    order = _placement_order(version)
    rows, columns = np.divmod(order, size)
    masked = _mask_function(mask, rows, columns)
    dark.reshape(-1)[order] = masked  # remainder bits (past the codewords) are zeros, masked
    used = 8 * (capacity_codewords(version, level) + _ecc_codewords(version, level))
    return _Layout(dark, order[:used], masked[:used].astype(np.uint8))


def _ecc_codewords(version: int, level: str) -> int:
    ecc_length, groups = BLOCKS[level][version - 1]
    return ecc_length * sum(count for count, _ in groups)


def _mask_function(mask: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """ISO/IEC 18004 table 10: True where the mask darkens-or-lightens a module (row i, column j)."""
    conditions = (
        lambda: (i + j) % 2 == 0,
        lambda: i % 2 == 0,
        lambda: j % 3 == 0,
        lambda: (i + j) % 3 == 0,
        lambda: (i // 2 + j // 3) % 2 == 0,
        lambda: (i * j) % 2 + (i * j) % 3 == 0,
        lambda: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        lambda: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    )
    result: np.ndarray = conditions[mask]()
    return result


@functools.cache
def _function_patterns(version: int) -> tuple[np.ndarray, np.ndarray]:
    """The version's dark modules and which modules are not data: finder, separator, timing and
    alignment patterns, the dark module, and the reserved format and version areas (version
    information written)."""
    size = 17 + 4 * version
    dark = np.zeros((size, size), dtype=bool)
    function = np.zeros((size, size), dtype=bool)

    def put(x: int, y: int, value: bool) -> None:
        dark[y, x] = value
        function[y, x] = True

    for i in range(size):
        put(6, i, i % 2 == 0)
        put(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < size and 0 <= y < size:
                    put(x, y, max(abs(dx), abs(dy)) not in (2, 4))
    if version > 1:
        count = version // 7 + 2
        step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
        positions = [6, *sorted(size - 7 - i * step for i in range(count - 1))]
        for i, cx in enumerate(positions):
            for j, cy in enumerate(positions):
                if (i, j) in ((0, 0), (0, count - 1), (count - 1, 0)):
                    continue
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        put(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
    for x, y in _format_modules(size):
        put(x, y, False)
    put(8, size - 8, True)
    if version >= 7:
        remainder = version
        for _ in range(12):
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        version_bits = version << 12 | remainder
        for i in range(18):
            value = (version_bits >> i) & 1 == 1
            a, b = size - 11 + i % 3, i // 3
            put(a, b, value)
            put(b, a, value)
    return dark, function


def _format_modules(size: int) -> list[tuple[int, int]]:
    """(x, y) of format bit 0 to 14 around the top-left finder, then of bits 0 to 14 in the other
    two corners."""
    first = [(8, i) for i in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(14 - i, 8) for i in range(9, 15)]
    second = [(size - 1 - i, 8) for i in range(8)] + [(8, size - 15 + i) for i in range(8, 15)]
    return first + second


def _put_format(dark: np.ndarray, format_data: int) -> None:
    remainder = format_data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    format_bits = (format_data << 10 | remainder) ^ 0x5412
    for index, (x, y) in enumerate(_format_modules(len(dark))):
        dark[y, x] = (format_bits >> (index % 15)) & 1 == 1


@functools.cache
def _placement_order(version: int) -> np.ndarray:
    """Flat indices of the data modules in the order the codewords' bits fill them: two-module
    columns from the right, up and down in turn, skipping the vertical timing pattern."""
    _, function = _function_patterns(version)
    size = len(function)
    order = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = (right + 1) & 2 == 0
        for vertical in range(size):
            y = size - 1 - vertical if upward else vertical
            for x in (right, right - 1):
                if not function[y, x]:
                    order.append(y * size + x)
        right -= 2
    return np.array(order, dtype=np.intp)


def penalty(symbol: np.ndarray) -> int:
    """The standard's penalty points of a symbol (section 7.8.3): runs of five or more modules of one
    colour in a row or column (3, plus 1 per module past five), 2 x 2 blocks of one colour (3 each),
    finder-like 1:1:3:1:1 patterns with four light modules on one side (40 each, the quiet zone
    counting as light), and the dark share's distance from half (10 per 5 %)."""
    points = 0
    for lines in (symbol, symbol.T):
        edged = np.full((len(lines), len(lines) + 2), 2, dtype=np.int8)
        edged[:, 1:-1] = lines
        changes = np.flatnonzero((edged[:, 1:] != edged[:, :-1]).reshape(-1))
        runs = np.diff(changes)
        points += int((runs[runs >= 5] - 2).sum())
    block = symbol[:-1, :-1]
    same = (block == symbol[1:, :-1]) & (block == symbol[:-1, 1:]) & (block == symbol[1:, 1:])
    points += 3 * int(same.sum())
    quiet = np.pad(symbol, 4)
    finder = np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], dtype=bool)
    for lines in (quiet, quiet.T):
        windows = np.lib.stride_tricks.sliding_window_view(lines, 11, axis=1)
        for pattern in (finder, finder[::-1]):
            points += 40 * int((windows == pattern).all(axis=2).sum())
    dark = int(symbol.sum())
    points += 10 * (abs(2 * dark - symbol.size) * 10 // symbol.size)
    return points


_FINDER = np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], dtype=bool)


def penalties(symbols: np.ndarray) -> np.ndarray:
    """:func:`penalty` of each symbol of a stack (symbols, side, side) in one pass of array operations:
    the eight masks of ``mask = "auto"`` cost about what one did (numpy's per-call overhead is most of
    the cost of a symbol this small). ``tests/qr`` checks it gives :func:`penalty`'s points."""
    count, side, _ = symbols.shape
    points = np.zeros(count, dtype=np.int64)
    for lines in (symbols, symbols.transpose(0, 2, 1)):
        edged = np.full((count, side, side + 2), 2, dtype=np.int8)
        edged[:, :, 1:-1] = lines
        change = edged[:, :, 1:] != edged[:, :, :-1]  # (count, side, side + 1): a run starts or ends
        # Runs per symbol: the distances between changes, within a row (each row starts and ends with
        # one, the edges being 2); a row's last change to the next row's first is not a run.
        flat = change.reshape(count, -1)
        which, where = np.nonzero(flat)
        runs = np.diff(where)
        same_symbol = which[1:] == which[:-1]
        row_end = (where[:-1] % (side + 1)) == side  # the change at a row's right edge
        keep = same_symbol & ~row_end & (runs >= 5)
        np.add.at(points, which[1:][keep], runs[keep] - 2)
    block = symbols[:, :-1, :-1]
    same = (block == symbols[:, 1:, :-1]) & (block == symbols[:, :-1, 1:]) & (block == symbols[:, 1:, 1:])
    points += 3 * same.reshape(count, -1).sum(axis=1)
    quiet = np.pad(symbols, ((0, 0), (4, 4), (4, 4)))
    width = side + 8 - 10  # the 11-module windows along a line of the padded symbol
    for lines in (quiet, np.ascontiguousarray(quiet.transpose(0, 2, 1))):
        light = ~lines
        for pattern in (_FINDER, _FINDER[::-1]):
            # A window matches where each of its 11 modules does: 11 shifted slices ANDed, far
            # cheaper than comparing strided windows.
            found = np.ones((count, side + 8, width), dtype=bool)
            for k, dark in enumerate(pattern):
                found &= (lines if dark else light)[:, :, k : k + width]
            points += 40 * found.reshape(count, -1).sum(axis=1)
    dark = symbols.reshape(count, -1).sum(axis=1).astype(np.int64)
    size = side * side
    points += 10 * (np.abs(2 * dark - size) * 10 // size)
    return points
