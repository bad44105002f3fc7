"""The static layer of each template page, written once per print file as a Form XObject.

It holds what does not change from letter to letter: the designer's ``background.pdf`` page (imported
with pikepdf), images, lines, rectangles and texts without placeholders. Each letter's page then draws it
with one ``Do``.
"""

from __future__ import annotations

import zlib
from typing import Any

import pikepdf
from PIL import Image

from courrier.compose.assets import inside_template, open_background, open_image
from courrier.compose.fonts import FileFont
from courrier.compose.layout import Typesetter, parse_markup
from courrier.compose.pdf import Name, PdfWriter, Raw, Ref, Value, number
from courrier.compose.print_condition import CMYK, PrintCondition
from courrier.compose.template import MM, Element, Template


def color_operator(element: Element, fill: bool, condition: PrintCondition = CMYK) -> bytes:
    """The colour operator for an element in the file's print condition: its hex ``color`` (sRGB)
    converted once, else its ``gray`` level as black ink."""
    if element.color:
        return condition.colour(element.color, fill)
    return condition.gray(element.gray, fill)


class StaticLayer:
    def __init__(
        self,
        template: Template,
        writer: PdfWriter,
        fonts: dict[str, FileFont],
        xobjects: dict[str, Ref],
        resources: Ref,
    ) -> None:
        self.template = template
        self.condition = CMYK
        self.resources = resources
        self.writer = writer
        self.fonts = fonts
        self.xobjects = xobjects
        self.height = template.height_mm * MM
        self._drawn: dict[int, bytes] = {}
        self._background: pikepdf.Pdf | None = None
        self._imported: dict[tuple[int, int], Ref] = {}

    def draw(self, page_number: int) -> bytes:
        operators = self._drawn.get(page_number)
        if operators is None:
            operators = self._drawn[page_number] = self._form(page_number)
        return operators

    def _form(self, page_number: int) -> bytes:
        parts: list[bytes] = []
        background = self._background_form(page_number)
        if background is not None:
            name = f"B{page_number}"
            self.xobjects[name] = background
            parts.append(b"q /%s Do Q\n" % name.encode())
        for element in self.template.pages[page_number]:
            if element.static:
                parts.append(self._element(element))
        if not parts:
            return b""
        name = f"S{page_number}"
        width = round(self.template.width_mm * MM, 2)
        self.xobjects[name] = self.writer.add_stream(
            b"".join(parts),
            {
                "Type": Name("XObject"),
                "Subtype": Name("Form"),
                "BBox": [0, 0, width, round(self.height, 2)],
                "Resources": self.resources,
            },
        )
        return b"/%s Do\n" % name.encode()

    def _element(self, element: Element) -> bytes:
        x, top = element.x * MM, self.height - element.y * MM
        if element.kind == "line":
            return b"q %s w %s %s %s m %s %s l S Q\n" % (
                number(element.line_width),
                color_operator(element, fill=False, condition=self.condition),
                number(round(x, 3)),
                number(round(top, 3)),
                number(round(element.x2 * MM, 3)),
                number(round(self.height - element.y2 * MM, 3)),
            )
        if element.kind == "rect":
            return self._rect(element, x, top)
        if element.kind == "image":
            name = f"I{len(self.xobjects)}"
            self.xobjects[name] = self._image(element)
            return b"q %s 0 0 %s %s %s cm /%s Do Q\n" % (
                number(round(element.width * MM, 3)),
                number(round(element.height * MM, 3)),
                number(round(x, 3)),
                number(round(top - element.height * MM, 3)),
                name.encode(),
            )
        return self._text(element, x, top)

    def _rect(self, element: Element, x: float, top: float) -> bytes:
        """Filled with ``fill`` (gray) or ``color``; outlined with ``stroke`` (as well as filled, when
        both are given); a rectangle given neither fill nor stroke is outlined in its ``gray``."""
        condition = self.condition
        filled = element.fill is not None or bool(element.color)
        stroke = element.stroke
        if stroke is None and not filled:
            stroke = element.gray
        operators = []
        if filled:
            operators.append(
                condition.colour(element.color, True)
                if element.color
                else condition.gray(element.fill if element.fill is not None else element.gray, True)
            )
        if stroke is not None:
            operators.append(
                condition.colour(stroke, False)
                if isinstance(stroke, str)
                else condition.gray(float(stroke), False)
            )
        paint = b"B" if filled and stroke is not None else b"f" if filled else b"S"
        return b"q %s w %s %s %s %s %s re %s Q\n" % (
            number(element.line_width),
            b" ".join(operators),
            number(round(x, 3)),
            number(round(top - element.height * MM, 3)),
            number(round(element.width * MM, 3)),
            number(round(element.height * MM, 3)),
            paint,
        )

    def _text(self, element: Element, x: float, top: float) -> bytes:
        fonts = dict(self.fonts)
        if element.style != "regular":
            fonts["regular"] = self.fonts[element.style]
        width = element.width * MM or 1000.0
        typesetter = Typesetter(fonts, element.size, element.leading, width, "fr", element.name)
        paragraphs = parse_markup(element.text)
        if element.kind == "text" and element.width == 0 and element.align in ("right", "center"):
            words = [word for paragraph in paragraphs for word in paragraph.words]
            natural = sum(typesetter.word_width(w) for w in words) + sum(
                typesetter.space_width(w) for w in words[:-1]
            )
            x -= natural if element.align == "right" else natural / 2
            align = "left"
        else:
            align = element.align if element.kind == "text" else (element.align or "left")
        block = typesetter.block(paragraphs, align if element.width else "left")
        baseline_shift = element.leading - element.size * 0.8
        return b"q %s 1 0 0 1 %s %s cm %s Q\n" % (
            color_operator(element, fill=True, condition=self.condition),
            number(round(x, 3)),
            number(round(top + baseline_shift, 3)),
            block.operators,
        )

    def _image(self, element: Element) -> Ref:
        image: Image.Image = open_image(
            inside_template(self.template.path, element.file, element.name), element.name
        )
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            flattened = Image.new("RGB", image.size, "white")
            flattened.paste(image, mask=image.getchannel("A"))
            image = flattened
        gray = image.mode in ("L", "1")
        image, space = self.condition.image(image.convert("L" if gray else "RGB"))
        return self.writer.add_stream(
            zlib.compress(image.tobytes(), 9),
            {
                "Type": Name("XObject"),
                "Subtype": Name("Image"),
                "Width": image.width,
                "Height": image.height,
                "ColorSpace": Name(space),
                "BitsPerComponent": 8,
                "Filter": Name("FlateDecode"),
            },
            compress=False,
        )

    def _background_form(self, page_number: int) -> Ref | None:
        path = self.template.background
        if path is None:
            return None
        if self._background is None:
            self._background = open_background(path)
        if page_number >= len(self._background.pages):
            return None
        page = self._background.pages[page_number]
        form = page.as_form_xobject()
        ref = _copy(self.writer, form, self._imported)
        assert isinstance(ref, Ref)
        return ref


def _copy(writer: PdfWriter, obj: Any, memo: dict[tuple[int, int], Ref]) -> Any:
    """Copy a pikepdf object graph into our writer; indirect objects once each."""
    if isinstance(obj, pikepdf.Stream) or (isinstance(obj, pikepdf.Object) and obj.is_indirect):
        key = obj.objgen if obj.objgen != (0, 0) else (-1, id(obj))
        if key in memo:
            return memo[key]
        ref = writer.reserve()
        memo[key] = ref
        if isinstance(obj, pikepdf.Stream):
            entries = {
                str(k)[1:]: _copy_direct(writer, v, memo) for k, v in obj.items() if str(k) != "/Length"
            }
            writer.add_stream(obj.read_raw_bytes(), entries, compress=False, ref=ref)
        else:
            # The object's value, not a reference to it: asking _copy_direct would find the object
            # indirect, look it up in memo and write "n 0 obj n 0 R endobj", an object that is itself.
            writer.add(_value(writer, obj, memo), ref=ref)
        return ref
    return _copy_direct(writer, obj, memo)


def _copy_direct(writer: PdfWriter, obj: Any, memo: dict[tuple[int, int], Ref]) -> Value:
    if isinstance(obj, pikepdf.Stream) or (isinstance(obj, pikepdf.Object) and obj.is_indirect):
        copied: Value = _copy(writer, obj, memo)
        return copied
    return _value(writer, obj, memo)


def _value(writer: PdfWriter, obj: Any, memo: dict[tuple[int, int], Ref]) -> Value:
    """An object's own value, its indirect members as references to their copies."""
    if isinstance(obj, pikepdf.Dictionary):
        return {str(k)[1:]: _copy(writer, v, memo) for k, v in obj.items()}
    if isinstance(obj, pikepdf.Array):
        return [_copy(writer, v, memo) for v in obj]
    if isinstance(obj, pikepdf.Name):
        return Name(str(obj)[1:])
    if isinstance(obj, pikepdf.String):
        return bytes(obj)
    if isinstance(obj, bool | int | float) or obj is None:
        return obj
    if isinstance(obj, pikepdf.Object):
        return Raw(obj.unparse())
    return Raw(str(obj).encode())
