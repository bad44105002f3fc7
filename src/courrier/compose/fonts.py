"""TrueType fonts: metrics for layout, and embedding as subset CID fonts (Identity-H, with ToUnicode).

Text is written as 2-byte glyph ids, so any character the font has can be printed, and a ToUnicode map
lets readers copy and search it. The font is subset when the print file is closed, keeping glyph ids so
the ids already written stay valid (``courrier.compose.subset``). Widths are cached per word: a print
run uses a few thousand distinct words.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTFont

from courrier.compose.assets import read_asset
from courrier.compose.pdf import FLATE_LEVEL, PAGE_MEMORY_LEVEL, Name, PdfWriter, Raw, Ref
from courrier.compose.subset import subset_truetype
from courrier.errors import CompositionError, TemplateError

BUNDLED = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
}
# Subsets a face keeps, made (see ``Embedded``): a few hundred kilobytes at most.
_EMBEDDED_KEPT = 16


class MissingGlyphError(CompositionError):
    def __init__(self, char: str, font: str, field: str = "") -> None:
        super().__init__(
            f"the font {font} has no glyph for {char!r} (U+{ord(char):04X})",
            code="missing_glyph",
            field=field,
        )
        self.char = char


class FontFace:
    """One font file's metrics, shared by every print file a process makes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = read_asset(path, "font")
        self._embedded: dict[tuple[tuple[int, str], ...], Embedded] = {}
        try:
            self._read_metrics()
        except TemplateError:
            raise
        except Exception as error:  # fontTools raises anything on a damaged file: one line naming it
            raise TemplateError(
                f"font {path} is not a usable TrueType font ({type(error).__name__}: {error})",
                code="bad_font",
            ) from error

    def _read_metrics(self) -> None:
        path = self.path
        font = TTFont(io.BytesIO(self.data), lazy=True)
        for tag, entry in font.reader.tables.items():  # a truncated file: its tables run past its end
            if entry.offset + entry.length > len(self.data):
                raise ValueError(f"table {tag} runs past the end of the file")
        self.name = str(font["name"].getDebugName(6) or path.stem).replace(" ", "")
        self.units_per_em = int(font["head"].unitsPerEm)
        scale = 1000 / self.units_per_em
        glyph_ids = font.getReverseGlyphMap()
        metrics = font["hmtx"].metrics
        self.cmap: dict[int, int] = {}
        self.advance: dict[int, int] = {}  # glyph id -> width in 1/1000 em
        for codepoint, glyph_name in font.getBestCmap().items():
            gid = glyph_ids[glyph_name]
            self.cmap[codepoint] = gid
            self.advance[gid] = round(metrics[glyph_name][0] * scale)
        self.hex_by_codepoint = {codepoint: f"{gid:04X}" for codepoint, gid in self.cmap.items()}
        self.advance_by_char = {chr(codepoint): self.advance[gid] for codepoint, gid in self.cmap.items()}
        head, os2, post = font["head"], font["OS/2"], font["post"]
        self.bbox = [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self.ascent = round(os2.sTypoAscender * scale)
        self.descent = round(os2.sTypoDescender * scale)
        self.cap_height = round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale)
        self.italic_angle = float(post.italicAngle)
        self.glyph_count = int(font["maxp"].numGlyphs)
        font.close()

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def embedded(self, used: dict[int, str]) -> Embedded:
        """The subset for the glyphs ``used`` (glyph id -> the text it stands for), as last made."""
        key = tuple(sorted(used.items()))
        cache = self._embedded
        found = cache.get(key)
        if found is None:
            found = _embedded(self, key)
            if len(cache) >= _EMBEDDED_KEPT:
                del cache[next(iter(cache))]  # the oldest
            cache[key] = found
        return found


@cache
def load_face(name_or_path: str) -> FontFace:
    """A bundled font by name (``DejaVuSans``...) or a TrueType file by path."""
    if name_or_path in BUNDLED:
        with resources.as_file(
            resources.files("courrier.compose").joinpath("fonts", BUNDLED[name_or_path])
        ) as path:
            return FontFace(path)
    return FontFace(Path(name_or_path))


class FileFont:
    """A face as used in one print file: the glyphs it needed, its resource name, its object."""

    def __init__(self, face: FontFace, resource: str, ref: Ref) -> None:
        self.face = face
        self.resource = resource
        self.ref = ref
        self.used: dict[int, str] = {}  # glyph id -> the text it stands for
        self._words: dict[str, tuple[int, bytes]] = {}
        self._chars: set[str] = set()  # characters whose glyph is in ``used``
        self._lines = False  # whether encode_line was called
        self.space_width, self.space_hex = self.encode(" ")

    @property
    def referenced(self) -> bool:
        """Whether any text was set in this face: a file embeds only those (the template's italic, say,
        is often not used: a subset of nothing but its space was 3 KB of every statement). A face is set
        only through :meth:`encode` (every word it encodes stays in ``_words``: the first is one past the
        space encoded here) and :meth:`encode_line`."""
        return self._lines or len(self._words) > 1

    def encode(self, word: str, field: str = "") -> tuple[int, bytes]:
        """(width in 1/1000 em, hex glyph ids) of ``word``; remembers the glyphs for the subset."""
        cached = self._words.get(word)
        if cached is not None:
            return cached
        cmap, advance, used = self.face.cmap, self.face.advance, self.used
        width = 0
        parts = []
        for char in word:
            gid = cmap.get(ord(char))
            if gid is None:
                raise MissingGlyphError(char, self.face.name, field)
            width += advance[gid]
            parts.append(b"%04X" % gid)
            used.setdefault(gid, char)
        result = (width, b"".join(parts))
        if len(self._words) < 50_000:
            self._words[word] = result
        return result

    def encode_line(self, text: str, field: str = "") -> tuple[int, bytes]:
        """Like :meth:`encode` for a whole line (spaces included), without caching it: lines with names
        and streets rarely repeat, and would crowd the words out of the cache. ``str.translate`` does
        the per-character work in C."""
        self._lines = True
        face = self.face
        hexed = text.translate(face.hex_by_codepoint)
        if len(hexed) != 4 * len(text):  # a character without a glyph was left as it was
            missing = next(char for char in text if ord(char) not in face.cmap)
            raise MissingGlyphError(missing, face.name, field)
        width = sum(map(face.advance_by_char.__getitem__, text))
        new_chars = set(text).difference(self._chars)
        if new_chars:
            self._chars.update(new_chars)
            for char in new_chars:
                self.used.setdefault(face.cmap[ord(char)], char)
        return width, hexed.encode("ascii")

    def embed(self, writer: PdfWriter) -> None:
        """Write the subset font program and its dictionaries at ``self.ref``."""
        face = self.face
        embedded = face.embedded(self.used)
        file_ref = writer.add_stream(
            embedded.program,
            {"Length1": embedded.program_length, "Filter": Name("FlateDecode")},
            compress=False,
        )
        descriptor = writer.add(
            {
                "Type": Name("FontDescriptor"),
                "FontName": Name(embedded.base_font),
                "Flags": 32 | (64 if face.italic_angle else 0),
                "FontBBox": face.bbox,
                "ItalicAngle": face.italic_angle,
                "Ascent": face.ascent,
                "Descent": face.descent,
                "CapHeight": face.cap_height,
                "StemV": 80,
                "FontFile2": file_ref,
            }
        )
        cid_font = writer.add(
            {
                "Type": Name("Font"),
                "Subtype": Name("CIDFontType2"),
                "BaseFont": Name(embedded.base_font),
                "CIDSystemInfo": {"Registry": "Adobe", "Ordering": "Identity", "Supplement": 0},
                "FontDescriptor": descriptor,
                "CIDToGIDMap": Name("Identity"),
                "DW": 1000,
                "W": Raw(embedded.widths),
            }
        )
        to_unicode = writer.add_stream(embedded.to_unicode, {"Filter": Name("FlateDecode")}, compress=False)
        writer.add(
            {
                "Type": Name("Font"),
                "Subtype": Name("Type0"),
                "BaseFont": Name(embedded.base_font),
                "Encoding": Name("Identity-H"),
                "DescendantFonts": [cid_font],
                "ToUnicode": to_unicode,
            },
            ref=self.ref,
        )


@dataclass(frozen=True)
class Embedded:
    """A subset of a face as a print file embeds it: the font program and ToUnicode map, compressed
    (as the writer would compress them), the widths array and the subset's name. The same glyphs give
    the same bytes, so a face keeps the last few it made: files of one kind (a run's statements, a
    job's letters) mostly use the same glyphs, and subsetting and compressing cost more than the rest
    of a one-page file."""

    program: bytes
    program_length: int
    to_unicode: bytes
    widths: bytes
    base_font: str


def _embedded(face: FontFace, used: tuple[tuple[int, str], ...]) -> Embedded:
    gids = [gid for gid, _ in used]
    program = subset_truetype(face.data, gids)
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(repr(gids).encode()).digest()[:6])
    widths = b" ".join(b"%d [%d]" % (gid, face.advance.get(gid, 0)) for gid in gids)
    packer = zlib.compressobj(FLATE_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, PAGE_MEMORY_LEVEL)
    to_unicode = packer.compress(_to_unicode_cmap(dict(used))) + packer.flush()
    return Embedded(
        zlib.compress(program, FLATE_LEVEL),
        len(program),
        to_unicode,
        b"[" + widths + b"]",
        f"{tag}+{face.name}",
    )


def _to_unicode_cmap(used: dict[int, str]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = sorted(used.items())
    for start in range(0, len(items), 100):
        block = items[start : start + 100]
        lines.append(b"%d beginbfchar" % len(block))
        lines.extend(
            b"<%04X> <%s>" % (gid, _searchable(text).encode("utf-16-be").hex().upper().encode())
            for gid, text in block
        )
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


def _searchable(text: str) -> str:
    # A no-break space keeps "12 mars 2026" on one line; copied or searched, it is an ordinary space.
    return text.replace("\xa0", " ")
