"""A QR encoder for one case: an alphanumeric text (an ``HC1:`` string) at level Q with mask 2.

zxing-cpp's general encoder spends about 1.7 µs a character choosing segments and masks; a DCC's
content is known to be one alphanumeric segment and the mask is fixed (as the composer fixes it, see
``compose.barcodes``), so what is left is table work, done with numpy and cached per version:

- data: mode 0010, the character count (9, 11 or 13 bits), 11 bits a pair of characters (45a + b) and
  6 for a last single one, terminator, pad bytes 0xEC 0x11 (ISO/IEC 18004 section 7.4);
- error correction: Reed-Solomon over GF(256) (polynomial 0x11D) for each block, as one table lookup
  per data position (the code is linear: each data byte adds its own remainder) and an XOR;
- placement: the function patterns, format and version information are the same for every symbol of
  a version, so the symbol is a cached template with the interleaved codewords' bits written in the
  cached zigzag order of the data modules, masked.

The symbol is the one zxing-cpp makes for the same text with ``ec_level="Q"`` and ``dataMask="2"``,
module for module (``tests/certificates/test_qrcode.py``).
"""

from __future__ import annotations

import functools

import numpy as np

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = np.full(256, 255, dtype=np.uint16)
_VALUES[np.frombuffer(ALPHANUMERIC.encode("ascii"), dtype=np.uint8)] = np.arange(45)
MASK = 2
_FORMAT_LEVEL_Q = 0b11
# Level Q, versions 1-40: (error correction codewords per block, (blocks, data codewords) per group).
_BLOCKS_Q: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] = (
    (13, ((1, 13),)), (22, ((1, 22),)), (18, ((2, 17),)),
    (26, ((2, 24),)), (18, ((2, 15), (2, 16))), (24, ((4, 19),)),
    (18, ((2, 14), (4, 15))), (22, ((4, 18), (2, 19))), (20, ((4, 16), (4, 17))),
    (24, ((6, 19), (2, 20))), (28, ((4, 22), (4, 23))), (26, ((4, 20), (6, 21))),
    (24, ((8, 20), (4, 21))), (20, ((11, 16), (5, 17))), (30, ((5, 24), (7, 25))),
    (24, ((15, 19), (2, 20))), (28, ((1, 22), (15, 23))), (28, ((17, 22), (1, 23))),
    (26, ((17, 21), (4, 22))), (30, ((15, 24), (5, 25))), (28, ((17, 22), (6, 23))),
    (30, ((7, 24), (16, 25))), (30, ((11, 24), (14, 25))), (30, ((11, 24), (16, 25))),
    (30, ((7, 24), (22, 25))), (28, ((28, 22), (6, 23))), (30, ((8, 23), (26, 24))),
    (30, ((4, 24), (31, 25))), (30, ((1, 23), (37, 24))), (30, ((15, 24), (25, 25))),
    (30, ((42, 24), (1, 25))), (30, ((10, 24), (35, 25))), (30, ((29, 24), (19, 25))),
    (30, ((44, 24), (7, 25))), (30, ((39, 24), (14, 25))), (30, ((46, 24), (10, 25))),
    (30, ((49, 24), (10, 25))), (30, ((48, 24), (14, 25))), (30, ((43, 24), (22, 25))),
    (30, ((34, 24), (34, 25))),
)  # fmt: skip


def _data_codewords(version: int) -> int:
    return sum(count * size for count, size in _BLOCKS_Q[version - 1][1])


def _count_bits(version: int) -> int:
    return 9 if version < 10 else 11 if version < 27 else 13


def _bits_needed(length: int, version: int) -> int:
    return 4 + _count_bits(version) + 11 * (length // 2) + 6 * (length % 2)


def qr_matrix(text: str) -> np.ndarray:
    """The symbol of ``text`` (alphanumeric characters only, else ``ValueError``) as a boolean array,
    True for a dark module, without the quiet zone."""
    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    values = _VALUES[raw]
    if (values == 255).any():
        raise ValueError("not an alphanumeric text")
    version = _version(len(text))
    if version is None:
        raise ValueError(f"{len(text)} characters do not fit a QR code at level Q")
    data = _encode_data(values, version)
    codewords = _interleave(data, version)
    template, order, mask = _layout(version)
    matrix = template.copy()
    bits = np.unpackbits(codewords)
    flat = matrix.reshape(-1)
    flat[order[: len(bits)]] = bits.astype(bool)
    flat[order] ^= mask
    return matrix


def _encode_data(values: np.ndarray, version: int) -> np.ndarray:
    length = len(values)
    pairs = values[: length & ~1].reshape(-1, 2)
    numbers = pairs[:, 0] * 45 + pairs[:, 1]
    parts = [np.array([0, 0, 1, 0], dtype=np.uint8), _bits(np.array([length]), _count_bits(version))]
    parts.append(_bits(numbers, 11))
    if length & 1:
        parts.append(_bits(values[-1:], 6))
    bits = np.concatenate(parts)
    capacity = 8 * _data_codewords(version)
    bits = np.concatenate([bits, np.zeros(min(4, capacity - len(bits)), dtype=np.uint8)])
    bits = np.concatenate([bits, np.zeros(-len(bits) % 8, dtype=np.uint8)])
    data = np.packbits(bits)
    padding = np.resize(np.array([0xEC, 0x11], dtype=np.uint8), _data_codewords(version) - len(data))
    return np.concatenate([data, padding])


def _bits(numbers: np.ndarray, width: int) -> np.ndarray:
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint16)
    return ((numbers.astype(np.uint16)[:, None] >> shifts) & 1).astype(np.uint8).reshape(-1)


def _interleave(data: np.ndarray, version: int) -> np.ndarray:
    """Data and error correction codewords in transmission order (blocks interleaved)."""
    ecc_length, groups = _BLOCKS_Q[version - 1]
    parts = [data]
    start = 0
    for count, size in groups:
        blocks = data[start : start + count * size].reshape(count, size)
        table = _remainder_table(size, ecc_length)
        parts.append(np.bitwise_xor.reduce(table[np.arange(size), blocks], axis=1).reshape(-1))
        start += count * size
    ordered: np.ndarray = np.concatenate(parts)[_transmission_order(version)]
    return ordered


@functools.cache
def _transmission_order(version: int) -> np.ndarray:
    """Indices into data + each group's error correction codewords (block after block), in the order
    the symbol carries them: the i-th data codeword of every block, then the i-th ECC codeword."""
    ecc_length, groups = _BLOCKS_Q[version - 1]
    data_blocks, ecc_blocks = [], []
    data_start, ecc_start = 0, _data_codewords(version)
    for count, size in groups:
        for _ in range(count):
            data_blocks.append(range(data_start, data_start + size))
            ecc_blocks.append(range(ecc_start, ecc_start + ecc_length))
            data_start += size
            ecc_start += ecc_length
    longest = max(len(block) for block in data_blocks)
    order = [block[i] for i in range(longest) for block in data_blocks if i < len(block)]
    order += [block[i] for i in range(ecc_length) for block in ecc_blocks]
    return np.array(order, dtype=np.int64)


@functools.cache
def _version(length: int) -> int | None:
    return next((v for v in range(1, 41) if _bits_needed(length, v) <= 8 * _data_codewords(v)), None)


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
    exp, _ = _gf_tables()
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
    for position in range(data_length):
        remainder = [0] * ecc_length
        for value in [1, *([0] * (data_length - 1 - position))]:
            factor = value ^ remainder[0]
            remainder = [*remainder[1:], 0]
            if factor:
                for i in range(ecc_length):
                    remainder[i] ^= _multiply(generator[i + 1], factor)
        units[position] = remainder
    exp, log = _gf_tables()
    byte_logs = log[np.arange(256)][None, :, None]
    unit_logs = log[units][:, None, :]
    table = exp[byte_logs + unit_logs]
    table[:, 0, :] = 0
    table[np.broadcast_to(units[:, None, :] == 0, table.shape)] = 0
    result: np.ndarray = table.astype(np.uint8)
    return result


@functools.cache
def _layout(version: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The version's template (function patterns, format and version information for level Q and
    mask 2), the flat indices of its data modules in placement order, and the mask over them."""
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
    format_data = _FORMAT_LEVEL_Q << 3 | MASK
    remainder = format_data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    format_bits = (format_data << 10 | remainder) ^ 0x5412
    bit = [(format_bits >> i) & 1 == 1 for i in range(15)]
    for i in range(6):
        put(8, i, bit[i])
    put(8, 7, bit[6])
    put(8, 8, bit[7])
    put(7, 8, bit[8])
    for i in range(9, 15):
        put(14 - i, 8, bit[i])
    for i in range(8):
        put(size - 1 - i, 8, bit[i])
    for i in range(8, 15):
        put(8, size - 15 + i, bit[i])
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
    indices = np.array(order, dtype=np.int64)
    mask = (indices % size) % 3 == 0  # mask 2: every third column
    return dark, indices, mask
