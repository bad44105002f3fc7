"""Text layout: light markup into paragraphs, paragraphs into justified lines, lines into PDF operators.

Markup: paragraphs are separated by blank lines; ``**bold**`` and ``*italic*`` inside a paragraph; a
paragraph starting with ``- `` is a bullet item, one starting with ``## `` a heading (bold). Lines are
filled greedily (spaces may shrink a little to take one more word); when the next word does not fit and
the line would be left loose, the word is hyphenated (pyphen) at the last point that fits. Lines are
justified by widening the spaces up to a limit, except a paragraph's last line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import pyphen

from courrier.compose.fonts import FileFont
from courrier.compose.pdf import number
from courrier.compose.sandbox import unescape_markup
from courrier.errors import CompositionError

# Word spacing, as a ratio to the font's space: spaces shrink to MIN_SPACE_RATIO to take one more word,
# a line looser than HYPHENATE_ABOVE hyphenates its next word, and justification never stretches a space
# beyond MAX_SPACE_RATIO (such a line ends short of the margin rather than with holes in it). Measured
# with bench/typesetting.py: see docs/templates.md.
MIN_SPACE_RATIO = 0.85
HYPHENATE_ABOVE = 1.2
MAX_SPACE_RATIO = 1.6
MAX_HYPHENS_IN_A_ROW = 2
LETTER_SPACING_EM = 0.025
BULLET_INDENT_EM = 1.2
_MARKUP = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")
_HYPHENATABLE = re.compile(r"[^\W\d_]{6,}")
# rdv.example.lu, 12\xa0mars, COVID-19, e-mail@addresses: printed whole.
_UNBREAKABLE = re.compile(r"[\d\xa0/@]|\w\.\w")

Style = str  # "regular", "bold", "italic"
Segment = tuple[str, Style]
Word = tuple[Segment, ...]


@dataclass(frozen=True)
class Paragraph:
    kind: str  # "p", "bullet", "heading"
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Block:
    """Laid-out text: operators drawing it below (0, 0), and the height it takes in points."""

    operators: bytes
    height: float
    lines: int


def parse_markup(text: str) -> list[Paragraph]:
    return [parse_paragraph(source) for source in paragraph_sources(text)]


def paragraph_sources(text: str) -> list[str]:
    """The source of each paragraph, whitespace collapsed: what a paragraph's layout is cached by.

    Only ASCII whitespace separates words: a no-break space (in a date, before a currency sign) binds
    what it joins onto one line."""
    if "\n" not in text:
        source = _collapse(text)
        return [source] if source else []
    text = text.strip()
    # Where no line break is followed by a space, a tab or a carriage return, every paragraph break is
    # "\n\n" and str.split finds the same breaks as the expression (leftmost, not overlapping), a
    # dozen times faster: the body of every letter comes through here.
    if "\r" in text or "\n " in text or "\n\t" in text:
        raws = _PARAGRAPH_BREAK.split(text)
    else:
        raws = text.split("\n\n")
    sources = []
    for raw in raws:
        for block in _bullet_blocks(raw) if "- " in raw else (raw,):
            source = _collapse(block)
            if source:
                sources.append(source)
    return sources


def _collapse(text: str) -> str:
    """ASCII whitespace runs to one space (``str.split()`` would take no-break spaces too); several
    times faster than a regular expression, and this runs for every paragraph of every letter."""
    if "\n" in text or "\t" in text or "\r" in text:
        text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    if "  " not in text and text[:1] != " " and text[-1:] != " ":  # nothing to collapse: most texts
        return text
    return " ".join(filter(None, text.split(" ")))


def parse_paragraph(source: str) -> Paragraph:
    if "*" not in source and not source.startswith(("- ", "## ")):  # plain text: most single lines
        return Paragraph("p", tuple(((word, "regular"),) for word in unescape_markup(source).split(" ")))
    kind = "p"
    if source.startswith("- "):
        kind, source = "bullet", source[2:]
    elif source.startswith("## "):
        kind, source = "heading", source[3:]
    return Paragraph(kind, tuple(_words(source, "bold" if kind == "heading" else "regular")))


def _bullet_blocks(raw: str) -> list[str]:
    """A block's lines, each ``- `` line starting a paragraph of its own (lists need no blank lines)."""
    blocks: list[list[str]] = [[]]
    for line in raw.splitlines():
        if line.lstrip().startswith("- ") and blocks[-1]:
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(block) for block in blocks]


def _words(source: str, base: Style) -> list[Word]:
    """Split into words; a word may change style in its middle (``**12 mars**,``)."""
    words: list[list[Segment]] = [[]]
    for part in _MARKUP.split(source):
        if not part:
            continue
        style = base
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            style, part = "bold", part[2:-2]
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            style, part = "italic", part[1:-1]
        pieces = unescape_markup(part).split(" ")
        for index, piece in enumerate(pieces):
            if index > 0:
                words.append([])
            if piece:
                words[-1].append((piece, style))
    return [tuple(word) for word in words if word]


def _style_runs(text: str) -> list[tuple[str, Style]]:
    """``Code : **AB-12**`` as [("Code : ", "regular"), ("AB-12", "bold")]."""
    if "*" not in text:
        return [(unescape_markup(text), "regular")] if text else []
    runs = []
    for part in _MARKUP.split(text):
        style: Style = "regular"
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            style, part = "bold", part[2:-2]
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            style, part = "italic", part[1:-1]
        if part:
            runs.append((unescape_markup(part), style))
    return runs


@cache
def hyphenator(language: str) -> pyphen.Pyphen | None:
    code = {"en": "en_GB", "pt": "pt_PT", "lb": "de_DE", "de": "de_DE", "fr": "fr"}.get(language, language)
    # Two letters before a break, three after: no line starts with a two-letter scrap ("-ne").
    return pyphen.Pyphen(lang=code, left=2, right=3) if code in pyphen.LANGUAGES else None


class Typesetter:
    """Lays out paragraphs in one box width with a set of fonts (one per style)."""

    def __init__(
        self,
        fonts: Mapping[Style, FileFont],
        size: float,
        leading: float,
        width: float,
        language: str,
        field: str,
    ) -> None:
        self.fonts = fonts
        self.size = size
        self.leading = leading
        self.width = width
        self.field = field
        self.hyphenator = hyphenator(language)
        self.scale = size / 1000
        self._widths: dict[Word, float] = {}
        self._spaces = {style: font.space_width * self.scale for style, font in fonts.items()}
        self._stretch_limit = (MAX_SPACE_RATIO - 1) * self._spaces["regular"]
        self._font_operator = {
            style: b"/%s %s Tf" % (font.resource.encode(), number(size)) for style, font in fonts.items()
        }

    def word_width(self, word: Word) -> float:
        width = self._widths.get(word)
        if width is None:
            width = sum(self.fonts[style].encode(text, self.field)[0] for text, style in word) * self.scale
            if len(self._widths) < 100_000:
                self._widths[word] = width
        return width

    def space_width(self, word: Word) -> float:
        return self._spaces[word[-1][1]]

    def lines(self, paragraph: Paragraph, width: float) -> list[list[Word]]:
        """Fill lines greedily, spaces allowed to shrink to ``MIN_SPACE_RATIO``; a line that would be
        left looser than ``HYPHENATE_ABOVE`` takes the first part of the next word, hyphenated, when
        it fits (never more than ``MAX_HYPHENS_IN_A_ROW`` lines in a row)."""
        words = list(paragraph.words)
        word_width, spaces = self.word_width, self._spaces
        lines: list[list[Word]] = []
        current: list[Word] = []
        used = 0.0  # the words' widths
        gaps = 0.0  # the natural widths of the spaces between them
        hyphens_in_row = 0
        index = 0
        while index < len(words):
            word = words[index]
            width_of_word = word_width(word)
            if not current:
                if width_of_word > width + 0.01:  # a word longer than the line: hyphenate it or fail
                    split = self._hyphenate(word, width)
                    if split is None:
                        text = "".join(t for t, _ in word)[:40]
                        raise CompositionError(
                            f"{self.field}: the word {text!r} is wider than the box",
                            code="text_overflow",
                            field=self.field,
                        )
                    lines.append([split[0]])
                    words[index] = split[1]
                    continue
                current.append(word)
                used, gaps = width_of_word, 0.0
                index += 1
                continue
            gap = spaces[current[-1][-1][1]]
            if used + width_of_word + (gaps + gap) * MIN_SPACE_RATIO <= width:
                current.append(word)
                used += width_of_word
                gaps += gap
                index += 1
                continue
            loose = gaps == 0.0 or (width - used) / gaps > HYPHENATE_ABOVE
            if loose and hyphens_in_row < MAX_HYPHENS_IN_A_ROW:
                split = self._hyphenate(word, width - used - (gaps + gap) * MIN_SPACE_RATIO)
                if split is not None:
                    current.append(split[0])
                    words[index] = split[1]
                    hyphens_in_row += 1
                    lines.append(current)
                    current = []
                    continue
            hyphens_in_row = 0
            lines.append(current)
            current = []
        if current:
            lines.append(current)
        return lines

    def _hyphenate(self, word: Word, room: float) -> tuple[Word, Word] | None:
        """The word's longest first part (a syllable break, hyphen added, or after a hyphen it has)
        that fits ``room``, and the rest. Never names of sites, codes, numbers, dates or acronyms."""
        if self.hyphenator is None or len(word) != 1 or room <= 0:
            return None
        text, style = word[0]
        if _UNBREAKABLE.search(text) or not _HYPHENATABLE.search(text) or text.isupper():
            return None
        candidates = [(text[: at + 1], text[at + 1 :]) for at in range(2, len(text) - 3) if text[at] == "-"]
        candidates += [
            (start + "-", end) for start, end in self.hyphenator.iterate(text) if not start.endswith("-")
        ]
        for head_text, tail in sorted(candidates, key=lambda pair: -len(pair[0])):
            head: Word = ((head_text, style),)
            if self.word_width(head) <= room:
                return head, ((tail, style),)
        return None

    def block(
        self, paragraphs: list[Paragraph], align: str = "justify", paragraph_gap: float | None = None
    ) -> Block:
        """Operators for ``paragraphs`` stacked from the top (y = 0) downwards."""
        gap = self.leading * 0.5 if paragraph_gap is None else paragraph_gap
        out: list[bytes] = [b"BT\n"]
        y = 0.0
        count = 0
        for index, paragraph in enumerate(paragraphs):
            if index:
                y -= gap
            indent = BULLET_INDENT_EM * self.size if paragraph.kind == "bullet" else 0.0
            lines = self.lines(paragraph, self.width - indent)
            for number_in_paragraph, line in enumerate(lines):
                y -= self.leading
                count += 1
                if paragraph.kind == "bullet" and number_in_paragraph == 0:
                    out.append(self._line([(("\u2022", "regular"),)], 0.0, y, "left"))
                last = number_in_paragraph == len(lines) - 1
                out.append(self._line(line, indent, y, "left" if last and align == "justify" else align))
        out.append(b"ET\n")
        return Block(b"".join(out), -y + self.leading * 0.25, count)

    def single_line(self, text: str) -> tuple[bytes, float]:
        """(operators, natural width) of ``text`` as one left-aligned line at (0, 0): the address lines and
        most single-line elements. Each run of one style is encoded whole, spaces included: cheaper than
        the word-by-word path paragraphs need, and the same glyphs."""
        parts = [b"1 0 0 1 0.00 0.00 Tm"]
        width = 0
        for run, style in _style_runs(" ".join(text.split())):
            font = self.fonts[style]
            run_width, hexed = font.encode_line(run, self.field)
            width += run_width
            parts.append(b"%s [<%s>] TJ" % (self._font_operator[style], hexed))
        return b" ".join(parts) + b"\n", width * self.scale

    def _line(self, words: list[Word], x: float, y: float, align: str) -> bytes:
        natural = sum(self.word_width(word) for word in words)
        natural += sum(self.space_width(word) for word in words[:-1])
        extra = 0.0
        room = self.width - x
        if len(words) > 1 and (align == "justify" or natural > room + 0.01):
            # Stretch to the margin, up to the limit; or shrink a line filled with narrower spaces.
            extra = (room - natural) / (len(words) - 1)
            if extra > self._stretch_limit:
                # Past the limit, the rest goes between the letters (a little: LETTER_SPACING_EM),
                # then the line ends short of the margin.
                glyphs = sum(len(text) for word in words for text, _ in word) + len(words) - 2
                rest = (extra - self._stretch_limit) * (len(words) - 1)
                tracking = min(rest / max(glyphs, 1), LETTER_SPACING_EM * self.size)
                extra = self._stretch_limit
                if tracking > 0.001:
                    return b"%.3f Tc %s 0 Tc\n" % (tracking, self._line_operators(words, x, y, extra)[:-1])
        elif align == "right":
            x += self.width - natural
        elif align == "center":
            x += (self.width - x - natural) / 2
        return self._line_operators(words, x, y, extra)

    def _line_operators(self, words: list[Word], x: float, y: float, extra: float) -> bytes:
        adjust = b" %s " % number(round(-extra * 1000 / self.size, 1)) if abs(extra) > 0.001 else b""
        position = b"1 0 0 1 %.2f %.2f Tm" % (x, y)
        style = words[0][0][1]
        if all(len(word) == 1 and word[0][1] == style for word in words):  # one font: most lines
            font = self.fonts[style]
            hexes = [font.encode(word[0][0], self.field)[1] for word in words]
            separator = font.space_hex + b">" + adjust + b"<" if adjust else font.space_hex
            return b"%s %s [<%s>] TJ\n" % (position, self._font_operator[style], separator.join(hexes))
        parts = [position]
        current_font: FileFont | None = None
        array: list[bytes] = []
        for index, word in enumerate(words):
            for segment_index, (text, style) in enumerate(word):
                font = self.fonts[style]
                if font is not current_font:
                    if array:
                        parts.append(b"[" + b"".join(array) + b"] TJ")
                        array = []
                    parts.append(b"/%s %s Tf" % (font.resource.encode(), number(self.size)))
                    current_font = font
                hexed = font.encode(text, self.field)[1]
                last_segment = segment_index == len(word) - 1
                if last_segment and index < len(words) - 1:
                    hexed += font.space_hex
                array.append(b"<" + hexed + b">")
                if last_segment and index < len(words) - 1 and adjust:
                    array.append(adjust)
        if array:
            parts.append(b"[" + b"".join(array) + b"] TJ")
        return b" ".join(parts) + b"\n"
