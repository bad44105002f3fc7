"""A small streaming PDF object writer: objects go to the file as they are made.

Only what a print file needs: numbered objects (dictionaries, arrays, streams), references reserved
before the object exists (a page names its parent before the page tree is written), compressed object
streams for the small dictionaries written for every letter (its pages and its DPart), and a
cross-reference stream (PDF 1.5; PDF/X-4 and PDF/VT-1 allow both, PDF/X-1a and X-3 did not). Nothing is
kept per object but its place (8 bytes), and at most ``PACKED_OBJECTS`` dictionaries wait for their
object stream, so memory does not grow with the pages.

Cross-reference stream layout (ISO 32000-1, 7.5.8), ``/W [1 5 2]``, one 8-byte row per object number:
type 0 (free: 0, 65535), type 1 (in the file: byte offset, generation 0), type 2 (in an object stream:
the stream's object number, the index in it). Flate-compressed, no predictor.

Bytes are deterministic: no clock (the caller gives dates), and the file identifier is a digest of
everything written before it. Streams are Flate-compressed by libdeflate (the ``deflate`` package, which
builds its own copy in: the same bytes whatever zlib the system has), into zlib streams as any reader
expects (ISO 32000-1, 7.4.4).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping, Sequence
from typing import BinaryIO, TypeAlias

from deflate import zlib_compress

HEADER = b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n"
# libdeflate's fastest level. Counted with callgrind on 300 of the reference letter's pages (1.43 KB of
# operators each): zlib level 1 (memory level 5, the composer's until December 2026) took 204,000
# instructions a page to 638 bytes, libdeflate level 1 145,000 to 613 (28 and 12 us a page, best of 30
# on this machine); libdeflate level 6 201,000 to 600. No preset dictionary: PDF's FlateDecode has no
# way to give one to the reader.
FLATE_LEVEL = 1
# zlib's memory level for the font streams compose/fonts.py compresses itself (with zlib: a 64 KB hash
# table cleared for every stream gains nothing on a few KB). The writer's own streams use libdeflate.
PAGE_MEMORY_LEVEL = 5
# Dictionaries per object stream: 100 letters of one page and a DPart. Measured on the reference letter:
# a letter's page and DPart dictionaries take 190 bytes written out (with their xref rows), about 25 packed
# by 200; more per stream buys a few bytes and holds more in memory.
PACKED_OBJECTS = 200
# In ``_offsets``: an object packed in an object stream is (stream number << 16 | index) with this bit set.
_PACKED = 1 << 63


class Ref:
    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def __bytes__(self) -> bytes:
        return b"%d 0 R" % self.number


class Name:
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


class Raw:
    """Bytes written as they are (a pre-serialised array, a hex string)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


Value: TypeAlias = (
    Ref | Name | Raw | str | bytes | int | float | bool | Sequence["Value"] | Mapping[str, "Value"] | None
)


def text_string(value: str) -> bytes:
    """A PDF text string: literal for plain ASCII, UTF-16BE hex otherwise."""
    if value.isascii():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("ascii") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def number(value: float) -> bytes:
    if isinstance(value, int) or value == int(value):
        return b"%d" % int(value)
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def serialise(value: Value) -> bytes:
    if isinstance(value, Ref):
        return bytes(value)
    if isinstance(value, Name):
        return b"/" + value.value.encode("ascii")
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if value is None:
        return b"null"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return text_string(value)
    if isinstance(value, bytes):
        return b"<" + value.hex().encode("ascii") + b">"
    if isinstance(value, Mapping):
        items = b" ".join(b"/" + key.encode("ascii") + b" " + serialise(item) for key, item in value.items())
        return b"<< " + items + b" >>"
    return b"[" + b" ".join(serialise(item) for item in value) + b"]"


class PdfWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        # Object n's offset at index n - 1; 0 until it is written (no object starts at 0). Eight bytes an
        # object: a dict would cost a hundred, and a print file has three objects a letter.
        self._offsets = array("Q")
        self._next = 1
        self._position = 0
        self._digest = hashlib.sha256()
        self._packed: list[tuple[int, bytes]] = []
        self._write(HEADER)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self._position += len(data)

    def reserve(self) -> Ref:
        ref = Ref(self._next)
        self._next += 1
        self._offsets.append(0)
        return ref

    def reserve_numbers(self, count: int) -> int:
        """Reserve ``count`` consecutive object numbers; returns the first."""
        first = self._next
        self._next += count
        self._offsets.frombytes(bytes(8 * count))
        return first

    def add_serialised(self, objects: Sequence[tuple[int, bytes]]) -> None:
        """Write reserved objects given as (number, serialised value) in one write: a letter's pages and
        its DPart cost a third of what one ``add`` each does (the per-call overhead is most of it)."""
        position = self._position
        offsets = self._offsets
        chunks = []
        for number_, body in objects:
            offsets[number_ - 1] = position
            chunk = b"%d 0 obj\n%s\nendobj\n" % (number_, body)
            chunks.append(chunk)
            position += len(chunk)
        self._write(b"".join(chunks))

    def add_packed(self, objects: Sequence[tuple[int, bytes]]) -> None:
        """Reserved dictionaries (no streams) given as (number, serialised value), written into a
        compressed object stream once ``PACKED_OBJECTS`` have come (or when the file closes)."""
        self._packed.extend(objects)
        if len(self._packed) >= PACKED_OBJECTS:
            self._write_object_stream()

    def _write_object_stream(self) -> None:
        packed, self._packed = self._packed, []
        if not packed:
            return
        stream = self.reserve()
        index_entries = []
        bodies = []
        offset = 0
        for index, (number_, body) in enumerate(packed):
            self._offsets[number_ - 1] = _PACKED | stream.number << 16 | index
            index_entries.append(b"%d %d" % (number_, offset))
            bodies.append(body)
            offset += len(body) + 1
        header = b" ".join(index_entries) + b"\n"
        data = zlib_compress(header + b"\n".join(bodies), FLATE_LEVEL)
        self._offsets[stream.number - 1] = self._position
        self._write(
            b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s"
            b"\nendstream\nendobj\n" % (stream.number, len(packed), len(header), len(data), data)
        )

    def add(self, value: Value, ref: Ref | None = None) -> Ref:
        ref = ref or self.reserve()
        self._offsets[ref.number - 1] = self._position
        self._write(b"%d 0 obj\n" % ref.number + serialise(value) + b"\nendobj\n")
        return ref

    def add_stream(
        self,
        data: bytes,
        entries: Mapping[str, Value] | None = None,
        *,
        compress: bool = True,
        ref: Ref | None = None,
    ) -> Ref:
        ref = ref or self.reserve()
        if entries is None and compress:  # a page's content: the most frequent object, kept cheap
            packed = zlib_compress(data, FLATE_LEVEL)
            self._offsets[ref.number - 1] = self._position
            self._write(
                b"%d 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"
                % (ref.number, len(packed), packed)
            )
            return ref
        dictionary = dict(entries or {})
        if compress:
            data = bytes(zlib_compress(data, FLATE_LEVEL))
            dictionary["Filter"] = Name("FlateDecode")
        dictionary["Length"] = len(data)
        self._offsets[ref.number - 1] = self._position
        self._write(
            b"%d 0 obj\n" % ref.number
            + serialise(dictionary)
            + b"\nstream\n"
            + data
            + b"\nendstream\nendobj\n"
        )
        return ref

    @staticmethod
    def content_stream(operators: bytes) -> bytes:
        """A page's content stream, Flate-compressed and serialised, for :meth:`add_serialised`."""
        data = zlib_compress(operators, FLATE_LEVEL)
        return b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(data), data)

    def digest(self) -> bytes:
        """The sha256 of the bytes written so far (an instance id for the metadata written last)."""
        return self._digest.copy().digest()

    def close(self, root: Ref, info: Ref | None = None) -> int:
        """Write the last object stream, the cross-reference stream and ``startxref``; returns the file's
        size. The file identifier is a digest of everything written before the cross-reference stream."""
        self._write_object_stream()
        xref = self.reserve()
        start = self._position
        self._offsets[xref.number - 1] = start
        count = self._next
        rows = [b"\x00\x00\x00\x00\x00\x00\xff\xff"]
        for place in self._offsets:
            if place & _PACKED:
                stream, index = place >> 16 & 0xFFFFFFFFFF, place & 0xFFFF
                rows.append(b"\x02" + stream.to_bytes(5, "big") + index.to_bytes(2, "big"))
            elif place:
                rows.append(b"\x01" + place.to_bytes(5, "big") + b"\x00\x00")
            else:
                rows.append(b"\x00\x00\x00\x00\x00\x00\xff\xff")
        data = zlib_compress(b"".join(rows), 6)
        identifier = self._digest.digest()[:16]
        entries: dict[str, Value] = {
            "Type": Name("XRef"),
            "Size": count,
            "W": [1, 5, 2],
            "Root": root,
            "ID": [identifier, identifier],
        }
        if info is not None:
            entries["Info"] = info
        entries["Filter"] = Name("FlateDecode")
        entries["Length"] = len(data)
        self._write(
            b"%d 0 obj\n" % xref.number
            + serialise(entries)
            + b"\nstream\n"
            + data
            + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % start
        )
        return self._position
