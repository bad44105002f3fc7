"""Subsetting a TrueType font for one print file, by copying bytes.

A print file's text is written as glyph ids before the file is closed, so the subset must keep every
glyph at its id. fontTools can (``retain_gids``) but decodes and re-encodes every glyph slot of the font
(~70 ms a face, three faces a file); here the kept glyphs' bytes are copied as they are and every other
slot is left empty, which takes a few milliseconds.

The subset holds what a PDF's CIDFontType2 needs (``head hhea maxp hmtx loca glyf``), plus ``OS/2``,
``name`` (the licence travels with the font: its Windows records, the Macintosh ones repeat them) and
``post`` without glyph names. Hinting is dropped (as print RIPs render at high resolution): the glyph
programs are removed with the tables they call. Composite glyphs bring their components.

Only the kept glyphs keep their metrics (``hmtx``: the other slots' are zero) and their characters in a
``cmap`` of their own (a format 4 subtable, and a format 12 one for characters beyond the BMP):
Ghostscript renders small text differently without a ``cmap``, and the whole font's (7 KB) and metrics
(25 KB) were two thirds of a subset that a file uses a hundred glyphs of.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from functools import lru_cache

_KEPT_AS_IS = (b"OS/2", b"gasp")
_WINDOWS = 3
# Composite glyph component flags (OpenType 'glyf' table).
_ARG_WORDS = 0x0001
_SCALE = 0x0008
_MORE = 0x0020
_XY_SCALE = 0x0040
_TWO_BY_TWO = 0x0080
_INSTRUCTIONS = 0x0100


def subset_truetype(data: bytes, glyph_ids: Iterable[int]) -> bytes:
    font = _parsed(data)
    count = font.count
    keep = {0}
    pending = [gid for gid in glyph_ids if 0 <= gid < count]
    while pending:
        gid = pending.pop()
        if gid in keep and gid != 0:
            continue
        keep.add(gid)
        pending.extend(c for c in font.components(gid) if c not in keep and c < count)
    # Every slot stays, empty when not kept: the cmap (kept whole) may point at any of them, and so the
    # glyph count in maxp is unchanged. Only the kept glyphs are visited: the offsets of the empty slots
    # between them repeat the last one (a font has thousands of slots, a file uses a hundred glyphs).
    kept = sorted(keep)
    glyphs = [font.stripped(gid) for gid in kept]
    glyph_data = b"".join(glyphs)
    head = bytearray(font.head)
    short = len(glyph_data) < 0x20000  # short offsets (halved) when the glyphs fit: half the table
    unit = 2 if short else 1
    new_offsets: list[int] = []
    position = previous = 0
    for gid, glyph in zip(kept, glyphs, strict=True):
        new_offsets += [position // unit] * (gid + 1 - previous)
        previous = gid + 1
        position += len(glyph)
    new_offsets += [position // unit] * (count + 1 - previous)
    loca_table = struct.pack(f">{count + 1}{'H' if short else 'L'}", *new_offsets)
    struct.pack_into(">h", head, 50, 0 if short else 1)
    struct.pack_into(">L", head, 8, 0)  # checkSumAdjustment, set below

    out = dict(font.fixed)
    out[b"hmtx"] = font.metrics_of(kept)
    out[b"cmap"] = _cmap({code: gid for code, gid in font.characters.items() if gid in keep})
    out[b"head"] = bytes(head)
    out[b"loca"] = loca_table
    out[b"glyf"] = glyph_data
    assembled, checksum = _assemble(out, font.checksums)
    adjustment = (0xB1B0AFBA - checksum) & 0xFFFFFFFF
    head_offset, _ = _directory(assembled)[b"head"]
    struct.pack_into(">L", assembled, head_offset + 8, adjustment)
    return bytes(assembled)


class _Font:
    """What every subset of one font file shares: its tables, glyph offsets, the tables copied as they
    are (with their checksums) and each glyph's bytes without instructions, as first asked for."""

    def __init__(self, data: bytes) -> None:
        tables = _tables(data)
        self.head = tables[b"head"]
        maxp = bytearray(tables[b"maxp"])
        self.count = count = struct.unpack_from(">H", maxp, 4)[0]
        long_offsets = struct.unpack_from(">h", self.head, 50)[0] == 1
        loca = tables[b"loca"]
        if long_offsets:
            self.offsets = struct.unpack(f">{count + 1}L", loca[: 4 * (count + 1)])
        else:
            self.offsets = tuple(2 * v for v in struct.unpack(f">{count + 1}H", loca[: 2 * (count + 1)]))
        self.glyf = tables[b"glyf"]
        if len(maxp) >= 32:  # version 1.0: no hinting left, so say so (as fontTools does), or rasterisers
            # set up for programs that are not there and render small text differently
            struct.pack_into(">HHHHHHH", maxp, 14, 1, 0, 0, 0, 0, 0, 0)
        post = bytearray(tables[b"post"][:32])
        struct.pack_into(">L", post, 0, 0x00030000)  # version 3: no glyph names
        self.hmtx = tables[b"hmtx"]
        self.long_metrics = struct.unpack_from(">H", tables[b"hhea"], 34)[0]
        self.characters = _characters(tables[b"cmap"])
        self.fixed = {b"hhea": tables[b"hhea"], b"maxp": bytes(maxp), b"post": bytes(post)}
        if b"name" in tables:
            self.fixed[b"name"] = _windows_names(tables[b"name"])
        for tag in _KEPT_AS_IS:
            if tag in tables:
                self.fixed[tag] = tables[tag]
        self.checksums = {tag: _checksum(table) for tag, table in self.fixed.items()}
        self._stripped: dict[int, bytes] = {}
        self._components: dict[int, list[int]] = {}

    def metrics_of(self, kept: list[int]) -> bytes:
        """The ``hmtx`` table with the metrics of the ``kept`` glyphs (sorted) and zeros for the others;
        the last full record stays, as glyphs after it take its advance."""
        hmtx, long_metrics = self.hmtx, self.long_metrics
        out = bytearray(len(hmtx))
        last = 4 * (long_metrics - 1)
        out[last : last + 4] = hmtx[last : last + 4]
        for gid in kept:
            if gid < long_metrics:
                start, end = 4 * gid, 4 * gid + 4
            else:  # a left side bearing alone
                start = 4 * long_metrics + 2 * (gid - long_metrics)
                end = start + 2
            out[start:end] = hmtx[start:end]
        return bytes(out)

    def glyph(self, gid: int) -> bytes:
        return self.glyf[self.offsets[gid] : self.offsets[gid + 1]]

    def components(self, gid: int) -> list[int]:
        found = self._components.get(gid)
        if found is None:
            found = self._components[gid] = _components(self.glyph(gid))
        return found

    def stripped(self, gid: int) -> bytes:
        """The glyph without its instructions, padded to 4 bytes."""
        found = self._stripped.get(gid)
        if found is None:
            found = _without_instructions(self.glyph(gid))
            found += b"\0" * (-len(found) % 4)
            self._stripped[gid] = found
        return found


@lru_cache(maxsize=8)
def _parsed(data: bytes) -> _Font:
    # Keyed by the font's bytes: their hash is computed once per bytes object and kept by Python.
    return _Font(data)


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


def _characters(cmap: bytes) -> dict[int, int]:
    """The font's characters (code point -> glyph id), from its Windows Unicode subtable: the full
    repertoire's (format 12) when it has one, else the BMP's (format 4)."""
    (count,) = struct.unpack_from(">H", cmap, 2)
    subtables = {}
    for index in range(count):
        platform, encoding, offset = struct.unpack_from(">HHL", cmap, 4 + 8 * index)
        subtables[(platform, encoding)] = offset
    found: dict[int, int] = {}
    if (_WINDOWS, 10) in subtables and struct.unpack_from(">H", cmap, subtables[(_WINDOWS, 10)])[0] == 12:
        offset = subtables[(_WINDOWS, 10)]
        (groups,) = struct.unpack_from(">L", cmap, offset + 12)
        for group in range(groups):
            first, last, gid = struct.unpack_from(">LLL", cmap, offset + 16 + 12 * group)
            found.update(zip(range(first, last + 1), range(gid, gid + last - first + 1), strict=True))
        return found
    offset = subtables.get((_WINDOWS, 1))
    if offset is None or struct.unpack_from(">H", cmap, offset)[0] != 4:
        return found
    segments = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", cmap, offset + 14)
    starts = struct.unpack_from(f">{segments}H", cmap, offset + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", cmap, offset + 16 + 4 * segments)
    range_at = offset + 16 + 6 * segments
    ranges = struct.unpack_from(f">{segments}H", cmap, range_at)
    segment_values = zip(starts, ends, deltas, ranges, strict=True)
    for index, (first, last, delta, range_offset) in enumerate(segment_values):
        for code in range(first, min(last, 0xFFFE) + 1):
            if range_offset == 0:
                gid = (code + delta) & 0xFFFF
            else:
                at = range_at + 2 * index + range_offset + 2 * (code - first)
                gid = struct.unpack_from(">H", cmap, at)[0]
                gid = (gid + delta) & 0xFFFF if gid else 0
            if gid:
                found[code] = gid
    return found


def _cmap(characters: dict[int, int]) -> bytes:
    """A ``cmap`` of these characters: a Windows BMP subtable (format 4, a segment per character), and a
    Windows full-repertoire one (format 12) when a character is beyond the BMP."""
    bmp = sorted(code for code in characters if code < 0xFFFF)
    segments = [*((code, code, (characters[code] - code) & 0xFFFF) for code in bmp), (0xFFFF, 0xFFFF, 1)]
    count = len(segments)
    power = 1 << (count.bit_length() - 1)
    format4 = struct.pack(
        f">HHHHHHH{count}HH{count}H{count}H{count}H",
        4,
        16 + 8 * count,
        0,
        2 * count,
        2 * power,
        power.bit_length() - 1,
        2 * count - 2 * power,
        *(end for _, end, _ in segments),
        0,
        *(start for start, _, _ in segments),
        *(delta for _, _, delta in segments),
        *([0] * count),
    )
    subtables = [((_WINDOWS, 1), format4)]
    if any(code > 0xFFFF for code in characters):
        groups = sorted(characters.items())
        format12 = struct.pack(">HHLLL", 12, 0, 16 + 12 * len(groups), 0, len(groups)) + b"".join(
            struct.pack(">LLL", code, code, gid) for code, gid in groups
        )
        subtables.append(((_WINDOWS, 10), format12))
    header = struct.pack(">HH", 0, len(subtables))
    offset = 4 + 8 * len(subtables)
    records = []
    for (platform, encoding), table in subtables:
        records.append(struct.pack(">HHL", platform, encoding, offset))
        offset += len(table)
    return header + b"".join(records) + b"".join(table for _, table in subtables)


def _windows_names(name: bytes) -> bytes:
    """The ``name`` table with its Windows records only (the same names, licence and copyright as the
    Macintosh ones, in UTF-16); the whole table when it has none."""
    version, count, strings_at = struct.unpack_from(">HHH", name, 0)
    if version != 0:
        return name
    records = [struct.unpack_from(">HHHHHH", name, 6 + 12 * index) for index in range(count)]
    kept = [record for record in records if record[0] == _WINDOWS]
    if not kept:
        return name
    strings = bytearray()
    out = []
    for platform, encoding, language, name_id, length, offset in kept:
        text = name[strings_at + offset : strings_at + offset + length]
        out.append(struct.pack(">HHHHHH", platform, encoding, language, name_id, length, len(strings)))
        strings += text
    return struct.pack(">HHH", 0, len(kept), 6 + 12 * len(kept)) + b"".join(out) + bytes(strings)


def _checksum(data: bytes | bytearray) -> int:
    padded = bytes(data) + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}L", padded)
    return sum(words) & 0xFFFFFFFF


def _assemble(tables: dict[bytes, bytes], known: dict[bytes, int] | None = None) -> tuple[bytearray, int]:
    """The font file and its checksum (of the whole file: the header's and every table's, each table
    padded to 4 bytes); ``known`` holds checksums already computed for some of the tables."""
    known = known or {}
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    search_range, selector = 16 * power, power.bit_length() - 1
    header = struct.pack(">LHHHH", 0x00010000, count, search_range, selector, 16 * count - search_range)
    offset = 12 + 16 * count
    records = []
    body = []
    position = offset
    total = 0
    for tag in tags:
        table = tables[tag]
        checksum = known[tag] if tag in known else _checksum(table)
        total += checksum
        records.append(struct.pack(">4sLLL", tag, checksum, position, len(table)))
        body.append(table)
        padding = -len(table) % 4
        if padding:
            body.append(b"\0" * padding)
        position += len(table) + padding
    directory = header + b"".join(records)
    font = bytearray(directory)
    for part in body:
        font += part
    return font, (total + _checksum(directory)) & 0xFFFFFFFF
