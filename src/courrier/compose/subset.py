"""Subsetting a TrueType font for one print file, by copying bytes.

A print file's text is written as glyph ids before the file is closed, so the subset must keep every
glyph at its id. fontTools can (``retain_gids``) but decodes and re-encodes every glyph slot of the font
(~70 ms a face, three faces a file); here the kept glyphs' bytes are copied as they are and every other
slot is left empty, which takes a few milliseconds.

The subset holds what a PDF's CIDFontType2 needs (``head hhea maxp hmtx loca glyf``), plus ``OS/2``,
``name`` (the licence travels with the font) and ``post`` without glyph names. Hinting is dropped (as
print RIPs render at high resolution): the glyph programs are removed with the tables they call.
Composite glyphs bring their components. The ``cmap`` is kept whole: Ghostscript renders small text
differently without one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

_KEPT_AS_IS = (b"OS/2", b"name", b"gasp", b"cmap")
# Composite glyph component flags (OpenType 'glyf' table).
_ARG_WORDS = 0x0001
_SCALE = 0x0008
_MORE = 0x0020
_XY_SCALE = 0x0040
_TWO_BY_TWO = 0x0080
_INSTRUCTIONS = 0x0100


def subset_truetype(data: bytes, glyph_ids: Iterable[int]) -> bytes:
    tables = _tables(data)
    head = bytearray(tables[b"head"])
    maxp = bytearray(tables[b"maxp"])
    count = struct.unpack_from(">H", maxp, 4)[0]
    long_offsets = struct.unpack_from(">h", head, 50)[0] == 1
    loca = tables[b"loca"]
    if long_offsets:
        offsets = struct.unpack(f">{count + 1}L", loca[: 4 * (count + 1)])
    else:
        offsets = tuple(2 * v for v in struct.unpack(f">{count + 1}H", loca[: 2 * (count + 1)]))
    glyf = tables[b"glyf"]

    def glyph(gid: int) -> bytes:
        return glyf[offsets[gid] : offsets[gid + 1]]

    keep = {0}
    pending = [gid for gid in glyph_ids if 0 <= gid < count]
    while pending:
        gid = pending.pop()
        if gid in keep and gid != 0:
            continue
        keep.add(gid)
        pending.extend(c for c in _components(glyph(gid)) if c not in keep)
    # Every slot stays, empty when not kept: the cmap (kept whole) may point at any of them, and so the
    # glyph count in maxp is unchanged.
    glyph_data = bytearray()
    new_offsets = []
    for gid in range(count):
        new_offsets.append(len(glyph_data))
        if gid in keep:
            glyph_data += _without_instructions(glyph(gid))
            glyph_data += b"\0" * (-len(glyph_data) % 4)
    new_offsets.append(len(glyph_data))

    if len(maxp) >= 32:  # version 1.0: no hinting left, so say so (as fontTools does), or rasterisers
        # set up for programs that are not there and render small text differently
        struct.pack_into(">HHHHHHH", maxp, 14, 1, 0, 0, 0, 0, 0, 0)
    if new_offsets[-1] < 0x20000:  # short offsets (halved) when the glyphs fit: half the table
        loca_table = struct.pack(f">{len(new_offsets)}H", *(offset // 2 for offset in new_offsets))
        struct.pack_into(">h", head, 50, 0)
    else:
        loca_table = struct.pack(f">{len(new_offsets)}L", *new_offsets)
        struct.pack_into(">h", head, 50, 1)
    struct.pack_into(">L", head, 8, 0)  # checkSumAdjustment, set below

    post = bytearray(tables[b"post"][:32])
    struct.pack_into(">L", post, 0, 0x00030000)  # version 3: no glyph names

    out = {
        b"head": bytes(head),
        b"hhea": tables[b"hhea"],
        b"maxp": bytes(maxp),
        b"hmtx": tables[b"hmtx"],
        b"loca": loca_table,
        b"glyf": bytes(glyph_data),
        b"post": bytes(post),
    }
    for tag in _KEPT_AS_IS:
        if tag in tables:
            out[tag] = tables[tag]
    font = bytearray(_assemble(out))
    adjustment = (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF
    head_offset, _ = _directory(font)[b"head"]
    struct.pack_into(">L", font, head_offset + 8, adjustment)
    return bytes(font)


def _directory(data: bytes | bytearray) -> dict[bytes, tuple[int, int]]:
    """Each table's (offset, length), from the font's table directory."""
    (count,) = struct.unpack_from(">H", data, 4)
    found = {}
    for index in range(count):
        tag, _, offset, length = struct.unpack_from(">4sLLL", data, 12 + 16 * index)
        found[tag] = (offset, length)
    return found


def _tables(data: bytes) -> dict[bytes, bytes]:
    return {tag: data[offset : offset + length] for tag, (offset, length) in _directory(data).items()}


def _components(glyph: bytes) -> list[int]:
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found = []
    position = 10
    while True:
        flags, gid = struct.unpack_from(">HH", glyph, position)
        found.append(gid)
        position += 4 + _argument_bytes(flags)
        if not flags & _MORE:
            return found


def _argument_bytes(flags: int) -> int:
    size = 4 if flags & _ARG_WORDS else 2
    if flags & _SCALE:
        size += 2
    elif flags & _XY_SCALE:
        size += 4
    elif flags & _TWO_BY_TWO:
        size += 8
    return size


def _without_instructions(glyph: bytes) -> bytes:
    if len(glyph) < 10:
        return glyph
    contours = struct.unpack_from(">h", glyph, 0)[0]
    if contours >= 0:
        position = 10 + 2 * contours
        (length,) = struct.unpack_from(">H", glyph, position)
        return glyph[:position] + b"\0\0" + glyph[position + 2 + length :]
    out = bytearray(glyph)
    position = 10
    while True:
        flags = struct.unpack_from(">H", out, position)[0]
        struct.pack_into(">H", out, position, flags & ~_INSTRUCTIONS)
        position += 4 + _argument_bytes(flags)
        if not flags & _MORE:
            return bytes(out[:position])


def _checksum(data: bytes | bytearray) -> int:
    padded = bytes(data) + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}L", padded)
    return sum(words) & 0xFFFFFFFF


def _assemble(tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    search_range, selector = 16 * power, power.bit_length() - 1
    header = struct.pack(">LHHHH", 0x00010000, count, search_range, selector, 16 * count - search_range)
    offset = 12 + 16 * count
    records = []
    body = bytearray()
    for tag in tags:
        table = tables[tag]
        records.append(struct.pack(">4sLLL", tag, _checksum(table), offset + len(body), len(table)))
        body += table + b"\0" * (-len(table) % 4)
    return header + b"".join(records) + bytes(body)
