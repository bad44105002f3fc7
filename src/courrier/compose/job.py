"""``compose_job``: records in, one print-ready PDF out, with per-letter pages, sheets and errors.

Pure: no database, no clock. Each letter is built in memory and written only when all of it succeeded,
so a letter that fails (text overflow, missing glyph...) leaves nothing in the file and the others go on.
Static content is written once per file as Form XObjects: each template page's static layer, each
page's texts that depend only on the language (labels, headings, closing: laid out once per language),
and any paragraph that appears a second time (identical text, identical box).

The file is PDF/X-4 and PDF/VT-1: XMP and Info identification (:mod:`courrier.compose.identification`),
an output intent for the print condition (:mod:`courrier.compose.print_condition`), TrimBox and BleedBox
on every page, one DPart record per letter under a root DPart with job-level DPM metadata.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jinja2
from jinja2.exceptions import SecurityError

from courrier.compose.address import fit_address
from courrier.compose.barcodes import (
    datamatrix_samples,
    image_mask_operators,
    qr_image_operators,
    qr_matrix,
    vector_operators,
)
from courrier.compose.fonts import FileFont, load_face
from courrier.compose.identification import Identification
from courrier.compose.layout import Block, Typesetter, paragraph_sources, parse_markup, parse_paragraph
from courrier.compose.pdf import Name, PdfWriter, Raw, Ref, text_string
from courrier.compose.print_condition import CMYK, PrintCondition
from courrier.compose.sandbox import escape_markup, unescape_markup
from courrier.compose.static import StaticLayer
from courrier.compose.template import MM, PERSON_FIELDS, REMARK_ZONE_MM, Element, Template
from courrier.errors import CompositionError

SheetMarks = Callable[[int, Mapping[str, Any], int, int], "str | None"]
_PARAGRAPH_CACHE = 4_000
_LINE_CACHE = 20_000
_PRINTABLE_MARGIN_MM = 5.0
_PERSON_FIELDS = dict.fromkeys(PERSON_FIELDS, "")
_SEPARATOR = "\x1e"  # between the texts of one letter rendered together
# Distance from the top of a line of text to its baseline, in font sizes.
_ASCENT = 0.8


@dataclass(frozen=True)
class MarkPlacement:
    """Where the inserter's Data Matrix goes on a sheet: its top-left corner from the sheet's top-left,
    and the size of one module (the symbol's side is its module count times this)."""

    x_mm: float
    y_mm: float
    module_mm: float = 0.5


@dataclass(frozen=True, slots=True)
class PieceResult:
    piece_id: str
    ok: bool
    pages: int = 0
    sheets: int = 0
    first_page: int = 0
    error_code: str | None = None
    error_field: str | None = None
    error_message: str | None = None


@dataclass
class JobResult:
    pieces: list[PieceResult] = field(default_factory=list)
    pages: int = 0
    sheets: int = 0
    bytes: int = 0

    @property
    def letters(self) -> int:
        return sum(1 for piece in self.pieces if piece.ok)

    @property
    def failures(self) -> list[PieceResult]:
        return [piece for piece in self.pieces if not piece.ok]


def compose_job(
    template: Template,
    records: Iterable[Mapping[str, Any]],
    out: BinaryIO | Path,
    *,
    job_id: str = "",
    duplex: bool | None = None,
    sheet_marks: SheetMarks | None = None,
    barcodes: str = "image",
    created_at: dt.datetime | None = None,
    condition: PrintCondition = CMYK,
    mark: MarkPlacement | None = None,
) -> JobResult:
    """Compose one letter per record into ``out``; see the module docstring.

    ``sheet_marks(index, record, sheet, sheets)`` gives the text of the inserter's Data Matrix on each
    sheet (None for none), placed by ``mark`` (default: the template's ``[inserter_mark]`` x and y, 0.5 mm
    modules). ``barcodes`` draws QR and Data Matrix codes as 1-bit ``image`` masks (the default: smaller
    and faster) or ``vector`` rectangles. ``created_at`` is the job's time, the only date in the file;
    ``condition`` the print condition (output intent and colour space).
    """
    if isinstance(out, Path):
        with out.open("wb") as file:
            return compose_job(
                template,
                records,
                file,
                job_id=job_id,
                duplex=duplex,
                sheet_marks=sheet_marks,
                barcodes=barcodes,
                created_at=created_at,
                condition=condition,
                mark=mark,
            )
    composer = _Composer(template, out, job_id, template.duplex if duplex is None else duplex, sheet_marks)
    composer.created_at = created_at
    composer.condition = condition
    composer.static.condition = condition
    composer.page_start = b"0 0 0 1 k\n" if condition.components == 4 else b""
    composer.mark = mark or MarkPlacement(template.mark[0], template.mark[1])
    composer.barcode_operators = vector_operators if barcodes == "vector" else image_mask_operators
    for index, record in enumerate(records):
        composer.add_letter(index, record)
    return composer.close()


class _Composer:
    def __init__(
        self, template: Template, out: BinaryIO, job_id: str, duplex: bool, sheet_marks: SheetMarks | None
    ) -> None:
        self.template = template
        self.writer = PdfWriter(out)
        self.job_id = job_id
        self.duplex = duplex
        self.sheet_marks = sheet_marks
        self.result = JobResult()
        writer = self.writer
        self.pages_root = writer.reserve()
        self.resources = writer.reserve()
        self.dpart_node = writer.reserve()
        # TrimBox and BleedBox are not inherited: every page names this one array (28 bytes a page, not
        # 58 for the two arrays written out). Cut-sheet letters have no bleed: both are the sheet itself.
        self.page_box = writer.reserve()
        self.page_boxes = b" /TrimBox %d 0 R /BleedBox %d 0 R >>" % (
            self.page_box.number,
            self.page_box.number,
        )
        self.created_at: dt.datetime | None = None
        self.condition = CMYK
        self.page_start = b""
        self.mark = MarkPlacement(template.mark[0], template.mark[1])
        self.fonts = {
            style: FileFont(load_face(template.fonts[style]), f"F{index}", writer.reserve())
            for index, style in enumerate(("regular", "bold", "italic"))
        }
        self.xobjects: dict[str, Ref] = {}
        self.static = StaticLayer(template, writer, self.fonts, self.xobjects, self.resources)
        # Object numbers of every page and DPart, for the page tree and DPart root written at the end.
        self.page_refs = array("L")
        self.dparts = array("L")
        self.paragraphs: OrderedDict[tuple[str, str, str], tuple[Block, str | None]] = OrderedDict()
        self.typesetters: dict[tuple[str, str, float], Typesetter] = {}
        self.alike_typesetters: dict[tuple[str, float, float, float, str], Typesetter] = {}
        self.lines: dict[tuple[int, str, str], tuple[bytes, float]] = {}
        self._language_sources: dict[str, list[tuple[str, str]]] = {}
        self.language_only = _language_only_elements(template)
        # (page, language) -> the operators that draw that page's language layer, or the error it gave.
        self.language_layers: dict[tuple[int, str], bytes | CompositionError] = {}
        self.return_addresses: dict[tuple[str, str], str] = {}
        self.return_address_lines: dict[tuple[str, str], bytes] = {}
        self.translations: dict[tuple[float, float], bytes] = {}
        self.height_pt = template.height_mm * MM
        self.barcode_operators: Callable[[Any, float, float, float], bytes] = image_mask_operators

    # --- one letter ---

    def add_letter(self, index: int, record: Mapping[str, Any]) -> None:
        piece_id = str(record.get("piece_id", index + 1))
        try:
            pages = self._letter_pages(index, record)
        except CompositionError as error:
            self.result.pieces.append(
                PieceResult(
                    piece_id, False, error_code=error.code, error_field=error.field, error_message=str(error)
                )
            )
            return
        sheets = (len(pages) + 1) // 2 if self.duplex else len(pages)
        first_page = len(self.page_refs) + 1
        # Each page's content and page objects, then the letter's DPart: numbered in a row, written at once.
        first = self.writer.reserve_numbers(2 * len(pages) + 1)
        streams, dictionaries = self._letter_objects(first, pages, piece_id)
        self.writer.add_serialised(streams)
        self.writer.add_packed(dictionaries)
        self.page_refs.extend(range(first + 1, first + 2 * len(pages), 2))
        self.dparts.append(first + 2 * len(pages))
        self.result.pieces.append(PieceResult(piece_id, True, len(pages), sheets, first_page))
        self.result.pages += len(pages)
        self.result.sheets += sheets

    def _letter_objects(
        self, first: int, pages: list[bytes], piece_id: str
    ) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
        """A letter's objects from ``first`` on: content and page of each page, then the DPart naming the
        piece; the content streams apart from the dictionaries (those go into object streams). Written
        from byte templates: the generic serialiser costs more per letter. The boxes and the DPart are the
        PDF/X and PDF/VT part (``bench/compose.py --metadata-cost`` measures them)."""
        dpart = first + 2 * len(pages)
        streams = []
        objects = []
        for number_in_letter, operators in enumerate(pages):
            contents = first + 2 * number_in_letter
            streams.append((contents, PdfWriter.content_stream(operators)))
            objects.append(
                (
                    contents + 1,
                    b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R /DPart %d 0 R%s"
                    % (self.pages_root.number, contents, dpart, self.page_boxes),
                )
            )
        objects.append(
            (
                dpart,
                b"<< /Type /DPart /Parent %d 0 R /Start %d 0 R /End %d 0 R"
                b" /DPM << /CIP4_Root << /CIP4_Recipient << /CIP4_UniqueID %s >> >> >> >>"
                % (self.dpart_node.number, first + 1, dpart - 1, text_string(piece_id)),
            )
        )
        return streams, objects

    def _letter_pages(self, index: int, record: Mapping[str, Any]) -> list[bytes]:
        template = self.template
        # A person field the record lacks is empty, as in the register (a template may test person.sex).
        person = _PERSON_FIELDS | dict(record.get("person") or {})
        language = template.language_for(str(person.get("language") or ""))
        context = {**record, "person": person, "language": language, "t": template.strings.get(language, {})}
        texts = self._render_all(language, context)
        pages = []
        page_count = len(template.pages)
        sheet_count = (page_count + 1) // 2 if self.duplex else page_count
        for page_number, elements in enumerate(template.pages):
            parts = [
                self.page_start,
                self.static.draw(page_number),
                self._language_layer(page_number, language),
            ]
            for element in elements:
                if not element.static and element.name not in self.language_only:
                    parts.append(self._draw(element, texts.get(element.name, ""), context, language))
            if self.sheet_marks is not None and (not self.duplex or page_number % 2 == 0):
                sheet = page_number // 2 + 1 if self.duplex else page_number + 1
                mark = self.sheet_marks(index, record, sheet, sheet_count)
                if mark:
                    matrix = datamatrix_samples(mark, "inserter_mark")
                    placement = self.mark
                    size = matrix.shape[0] * placement.module_mm
                    parts.append(self._matrix_ops(matrix, placement.x_mm, placement.y_mm, size))
            pages.append(b"".join(parts))
        return pages

    def _language_layer(self, page_number: int, language: str) -> bytes:
        """The page's texts that depend only on the language, laid out once per language as a form."""
        key = (page_number, language)
        layer = self.language_layers.get(key)
        if layer is None:
            try:
                layer = self._language_form(page_number, language)
            except CompositionError as error:
                layer = error
            self.language_layers[key] = layer
        if isinstance(layer, CompositionError):
            raise layer
        return layer

    def _language_form(self, page_number: int, language: str) -> bytes:
        elements = [e for e in self.template.pages[page_number] if e.name in self.language_only]
        if not elements:
            return b""
        context = {"language": language, "t": self.template.strings.get(language, {})}
        parts = []
        for element in elements:
            source = self.template.texts[element.source][language] if element.source else element.text
            parts.append(self._draw(element, self._render(source, context, element.name), context, language))
        name = f"L{page_number}{language}"
        self.xobjects[name] = self.writer.add_stream(
            b"".join(parts),
            {
                "Type": Name("XObject"),
                "Subtype": Name("Form"),
                "BBox": [0, 0, round(self.template.width_mm * MM, 2), round(self.height_pt, 2)],
                "Resources": self.resources,
            },
        )
        return b"/%s Do\n" % name.encode()

    # --- elements ---

    def _draw(self, element: Element, text: str, context: Mapping[str, Any], language: str) -> bytes:
        if element.kind == "flow":
            return self._flow(element, text, language)
        if element.kind == "text":
            return self._single_line(element, text, language)
        if element.kind == "address":
            return self._address(element, context, language)
        text = unescape_markup(text)  # a barcode's text is no markup: the data as it is
        if element.kind == "qr" and self.barcode_operators is image_mask_operators:
            size = element.width * MM
            x, y = element.x * MM, self.height_pt - element.y * MM - size
            return qr_image_operators(text, element.ec_level, element.name, element.mask, x, y, size)
        if element.kind == "qr":
            return self._matrix_ops(
                qr_matrix(text, element.ec_level, element.name, element.mask),
                element.x,
                element.y,
                element.width,
            )
        return self._matrix_ops(datamatrix_samples(text, element.name), element.x, element.y, element.width)

    def _sources(self, language: str) -> list[tuple[str, str]]:
        """(element name, Jinja source) of every element whose text depends on the record."""
        sources = self._language_sources.get(language)
        if sources is None:
            sources = []
            for elements in self.template.pages:
                for element in elements:
                    if element.static or element.kind == "address" or element.name in self.language_only:
                        continue
                    if element.kind == "flow" and element.source:
                        sources.append((element.name, self.template.texts[element.source][language]))
                    else:
                        sources.append(
                            (element.name, element.text or ("{{ qr }}" if element.kind == "qr" else ""))
                        )
            self._language_sources[language] = sources
        return sources

    def _render_all(self, language: str, context: dict[str, Any]) -> dict[str, str]:
        """All of a letter's texts in one Jinja render (one per element costs several times more)."""
        sources = self._sources(language)
        if not sources:  # every text is static or depends on the language only
            return {}
        combined = _SEPARATOR.join(source for _, source in sources)
        try:
            compiled = self.template.compiled(combined)
            # ``render`` without its copies of the context (twice per letter): the context is this
            # letter's own dict, made above, and the template writes only to its own variables.
            rendered = compiled.environment.concat(
                compiled.root_render_func(compiled.new_context(context, shared=True))
            ).split(_SEPARATOR)
        except (jinja2.TemplateError, ValueError, TypeError, OverflowError, CompositionError) as error:
            # Find the element to blame, one by one.
            for name, source in sources:
                self._render(source, context, name)
            raise CompositionError(f"the letter's texts: {error}", code="template_error") from error
        return {name: text for (name, _), text in zip(sources, rendered, strict=True)}

    def _render(self, source: str, context: Mapping[str, Any], field: str) -> str:
        try:
            return self.template.compiled(source).render(context)
        except CompositionError as error:  # from a filter: say which element it was in
            raise CompositionError(f"{field}: {error}", code=error.code, field=field) from error
        except SecurityError as error:  # what the sandbox refused (an underscore attribute, str.format...)
            raise CompositionError(f"{field}: {error}", code="template_unsafe", field=field) from error
        except jinja2.UndefinedError as error:
            raise CompositionError(
                f"{field}: {error.message}", code="unknown_placeholder", field=field
            ) from error
        except (jinja2.TemplateError, ValueError, TypeError, OverflowError) as error:
            raise CompositionError(f"{field}: {error}", code="template_error", field=field) from error

    def _typesetter(self, element: Element, language: str, size: float = 0.0) -> Typesetter:
        key = (element.name, language, size)
        typesetter = self.typesetters.get(key)
        if typesetter is None:
            leading = size * 1.3 if size else element.leading
            size = size or element.size
            width = element.width * MM
            # Elements set alike (style, size, leading, width, language) share one typesetter, and so
            # the lines it laid out (``_line``): a statement's 30 rows of cells are four typesetters,
            # not 180, and its amount is laid out once, not once per row.
            alike = (element.style, size, leading, width, language)
            typesetter = self.alike_typesetters.get(alike)
            if typesetter is None:
                fonts = dict(self.fonts)
                if element.style != "regular":
                    fonts["regular"] = self.fonts[element.style]
                typesetter = Typesetter(fonts, size, leading, width, language, element.name)
                self.alike_typesetters[alike] = typesetter
            self.typesetters[key] = typesetter
        typesetter.field = element.name  # what a text that does not fit or lacks a glyph names
        return typesetter

    def _flow(self, element: Element, text: str, language: str) -> bytes:
        sources = paragraph_sources(text)
        typesetter = self._typesetter(element, language)
        x = element.x * MM
        top = self.height_pt - element.y * MM
        limit = element.height * MM
        used = 0.0
        parts = []
        for number_in_box, paragraph_source in enumerate(sources):
            if number_in_box:
                # A list's items stay together; paragraphs are set apart by half a line.
                in_list = paragraph_source.startswith("- ") and sources[number_in_box - 1].startswith("- ")
                used += element.leading * (0.15 if in_list else 0.5)
            operators, height = self._paragraph(element, language, paragraph_source, typesetter)
            if used + height > limit + 0.01:
                raise CompositionError(
                    f"{element.name}: the text needs more than the box's {element.height:g} mm",
                    code="text_overflow",
                    field=element.name,
                )
            parts.append(b"%s%s Q\n" % (self._translation(x, top - used), operators))
            used += height
        return b"".join(parts)

    def _paragraph(
        self, element: Element, language: str, source: str, typesetter: Typesetter
    ) -> tuple[bytes, float]:
        """A paragraph's operators: inline the first time, a Form XObject from its second use on."""
        key = (element.name, language, source)
        cached = self.paragraphs.get(key)
        if cached is None:
            block = typesetter.block([parse_paragraph(source)], element.align)
            self.paragraphs[key] = (block, None)
            if len(self.paragraphs) > _PARAGRAPH_CACHE:
                self.paragraphs.popitem(last=False)
            return block.operators, block.height
        block, name = cached
        self.paragraphs.move_to_end(key)
        if name is None:
            name = f"P{len(self.xobjects)}"
            bbox = [0, -round(block.height + 1, 2), round(element.width * MM, 2), 1]
            self.xobjects[name] = self.writer.add_stream(
                block.operators,
                {"Type": Name("XObject"), "Subtype": Name("Form"), "BBox": bbox, "Resources": self.resources},
            )
            self.paragraphs[key] = (block, name)
        return b"/%s Do" % name.encode(), block.height

    def _single_line(self, element: Element, text: str, language: str) -> bytes:
        typesetter = self._typesetter(element, language)
        align = element.align if element.width else "left"
        line, natural = self._line(typesetter, text, align)
        if not line:
            return b""
        room = element.width or _room_on_page(element, self.template.width_mm)
        if natural > room * MM + 0.01:
            raise CompositionError(
                f"{element.name}: the text is wider than {room:g} mm",
                code="text_overflow",
                field=element.name,
            )
        x = element.x * MM
        if not element.width:  # x is where the text starts, ends (right) or is centred
            x -= {"right": natural, "center": natural / 2}.get(element.align, 0.0)
        baseline = self.height_pt - element.y * MM - element.size * _ASCENT
        return self._positioned(line, x, baseline)

    def _line(self, typesetter: Typesetter, text: str, align: str) -> tuple[bytes, float]:
        """One line of text, laid out once per distinct text (street names, dates and labels repeat)."""
        key = (id(typesetter), text, align)
        cached = self.lines.get(key)
        if cached is None and align == "left" and "\n" not in text and not text.startswith(("- ", "## ")):
            if not text.strip():
                return b"", 0.0
            cached = typesetter.single_line(text)
            if len(self.lines) > _LINE_CACHE:
                self.lines.clear()
            self.lines[key] = cached
        elif cached is None:
            words = [word for paragraph in parse_markup(text) for word in paragraph.words]
            if not words:
                return b"", 0.0
            cached = (typesetter._line(words, 0.0, 0.0, align), _natural_width(typesetter, words))
            if len(self.lines) > _LINE_CACHE:
                self.lines.clear()
            self.lines[key] = cached
        return cached

    def _positioned(self, line: bytes, x: float, y: float) -> bytes:
        return b"%sBT %s ET Q\n" % (self._translation(x, y), line)

    def _translation(self, x: float, y: float) -> bytes:
        """``q 1 0 0 1 x y cm `` (to two decimals), formatted once per place: the same few places on
        every letter, and formatting two floats costs more than looking them up."""
        key = (x, y)
        operator = self.translations.get(key)
        if operator is None:
            if len(self.translations) > _LINE_CACHE:
                self.translations.clear()
            operator = self.translations[key] = b"q 1 0 0 1 %.2f %.2f cm " % key
        return operator

    def _address(self, element: Element, context: Mapping[str, Any], language: str) -> bytes:
        window = self.template.window
        x = (element.x or window.x + 5) * MM
        top = (element.y or window.y + REMARK_ZONE_MM) * MM
        room = (window.width - 8) * MM
        # Each line measured is laid out once: drawn from what measuring it gave.
        measured: dict[tuple[str, float], bytes] = {}

        def measure(text: str, size: float) -> float:
            line, width = self._line(
                self._address_typesetter(element, language, size), escape_markup(text), "left"
            )
            measured[text, size] = line
            return width

        lines = fit_address(context.get("person") or {}, measure, room, element.size)
        parts = []
        if element.text:  # the return address, small, at the top of the window
            parts.append(self._return_address_line(element, context, language, x))
        for number_in_block, fitted in enumerate(lines):
            line = measured.get((fitted.text, fitted.size))
            if line is None:
                typesetter = self._address_typesetter(element, language, fitted.size)
                line = self._line(typesetter, escape_markup(fitted.text), "left")[0]
            # The baselines keep the block's grid whatever a line's size: the block's height never grows.
            y = self.height_pt - top - element.size * _ASCENT - number_in_block * element.leading
            parts.append(self._positioned(line, x, y))
        return b"".join(parts)

    def _return_address_line(
        self, element: Element, context: Mapping[str, Any], language: str, x: float
    ) -> bytes:
        """The return address's operators, made once per language when its text is (the usual case)."""
        key = (element.name, language)
        cached = self.return_address_lines.get(key)
        if cached is not None:
            return cached
        window = self.template.window
        sender = self._return_address(element, context, language)
        line, _ = self._line(self._typesetter(element, language, size=6.5), sender, "left")
        drawn = self._positioned(line, x, self.height_pt - (window.y + 4) * MM - 6.5 * _ASCENT)
        if key in self.return_addresses:  # rendered for the language, not for this letter
            self.return_address_lines[key] = drawn
        return drawn

    def _return_address(self, element: Element, context: Mapping[str, Any], language: str) -> str:
        """The address element's ``text``, a template like the others: rendered once per language when
        it reads only ``t`` strings (the usual case), else once per letter."""
        key = (element.name, language)
        cached = self.return_addresses.get(key)
        if cached is None:
            if not self.template.placeholders(element.text) <= _LANGUAGE_NAMES:
                return self._render(element.text, context, element.name)
            language_context = {"language": language, "t": self.template.strings.get(language, {})}
            cached = self.return_addresses[key] = self._render(element.text, language_context, element.name)
        return cached

    def _address_typesetter(self, element: Element, language: str, size: float) -> Typesetter:
        return self._typesetter(element, language, 0.0 if size == element.size else size)

    def _matrix_ops(self, matrix: Any, x_mm: float, y_mm: float, size_mm: float) -> bytes:
        size = size_mm * MM
        return self.barcode_operators(matrix, x_mm * MM, self.height_pt - y_mm * MM - size, size)

    # --- the file ---

    def close(self) -> JobResult:
        writer, template = self.writer, self.template
        fonts = [font for font in self.fonts.values() if font.referenced]
        for font in fonts:
            font.embed(writer)
        writer.add(
            {
                # A face no text was set in is not embedded (its reserved object number stays free).
                "Font": {font.resource: font.ref for font in fonts},
                "XObject": dict(self.xobjects.items()),
            },
            ref=self.resources,
        )
        media_box = [0, 0, round(template.width_mm * MM, 2), round(template.height_mm * MM, 2)]
        writer.add(media_box, ref=self.page_box)
        kids = Raw(b"[" + b" ".join(b"%d 0 R" % n for n in self.page_refs) + b"]")
        writer.add(
            {
                "Type": Name("Pages"),
                "Kids": kids,
                "Count": len(self.page_refs),
                "MediaBox": media_box,
                "Resources": self.resources,
            },
            ref=self.pages_root,
        )
        dpart_root = writer.reserve()
        title = self.job_id or template.name
        writer.add(
            {
                "Type": Name("DPart"),
                "Parent": dpart_root,
                "DParts": [Raw(b"[" + b" ".join(b"%d 0 R" % n for n in self.dparts) + b"]")],
                # Job-level document part metadata (PDF/VT DPM): what a RIP or the inserter's software
                # shows for the whole file; each record's DPart names its piece.
                "DPM": {
                    "CIP4_Root": {
                        "CIP4_Production": {
                            "CIP4_JobID": title,
                            "CIP4_Template": template.name,
                            "CIP4_Records": len(self.dparts),
                            "CIP4_Pages": len(self.page_refs),
                            "CIP4_Plex": "duplex" if self.duplex else "simplex",
                        }
                    }
                },
            },
            ref=self.dpart_node,
        )
        writer.add(
            {
                "Type": Name("DPartRoot"),
                "DPartRootNode": self.dpart_node,
                "RecordLevel": 1,
                "NodeNameList": [Name("Root"), Name("Recipient")],
            },
            ref=dpart_root,
        )
        condition = self.condition
        icc = writer.add_stream(condition.icc(), {"N": condition.components})
        intent = writer.add(
            {
                "Type": Name("OutputIntent"),
                "S": Name("GTS_PDFX"),
                "OutputConditionIdentifier": condition.identifier,
                "OutputCondition": condition.info,
                "RegistryName": "http://www.color.org",
                "Info": condition.info,
                "DestOutputProfile": icc,
            }
        )
        identification = Identification.of_job(title, template.name, self.created_at, writer.digest())
        metadata = writer.add_stream(
            identification.xmp(), {"Type": Name("Metadata"), "Subtype": Name("XML")}, compress=False
        )
        catalog = writer.add(
            {
                "Type": Name("Catalog"),
                "Pages": self.pages_root,
                "Metadata": metadata,
                "OutputIntents": [intent],
                "DPartRoot": dpart_root,
            }
        )
        info = writer.add(identification.info())
        self.result.bytes = writer.close(catalog, info)
        return self.result


_LANGUAGE_NAMES = frozenset({"t", "language"})


def _language_only_elements(template: Template) -> frozenset[str]:
    """Names of the text and flow elements whose text reads nothing of the record but its language."""
    names = set()
    for elements in template.pages:
        for element in elements:
            if element.static or element.kind not in ("text", "flow"):
                continue
            sources = template.texts[element.source].values() if element.source else [element.text]
            if all(template.placeholders(source) <= _LANGUAGE_NAMES for source in sources):
                names.add(element.name)
    return frozenset(names)


def _room_on_page(element: Element, page_width_mm: float) -> float:
    """How wide a text without a box may be: to the page's printable edge (the margin a printer needs)."""
    left, right = element.x - _PRINTABLE_MARGIN_MM, page_width_mm - _PRINTABLE_MARGIN_MM - element.x
    return {"right": left, "center": 2 * min(left, right)}.get(element.align, right)


def _natural_width(typesetter: Typesetter, words: list[Any]) -> float:
    return sum(typesetter.word_width(w) for w in words) + sum(typesetter.space_width(w) for w in words[:-1])
