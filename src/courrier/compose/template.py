"""Templates: a folder with ``template.toml``, texts per language, strings per language, optional artwork.

See ``docs/templates.md`` for the format. Coordinates are millimetres from the page's top-left corner;
this module turns them into PDF points from the bottom-left. Loading checks everything that can be
checked without a record: an error names the file and the element.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from courrier.compose.assets import inside_template, open_background, open_image, read_text_asset
from courrier.compose.barcodes import DEFAULT_QR_MASK
from courrier.compose.formats import format_date, format_money, format_number, format_phone
from courrier.compose.salutation import salutation
from courrier.compose.sandbox import TemplateText, letter_environment, unsafe_constructs
from courrier.country import HOME_COUNTRY
from courrier.errors import CompositionError, TemplateError
from courrier.languages import FRENCH_SPACES, french_spacing
from courrier.qr import EC_LEVELS, MASKS

MM = 72 / 25.4
PAGE_SIZES = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "LETTER": (215.9, 279.4)}
ELEMENT_KINDS = ("text", "flow", "address", "qr", "datamatrix", "image", "line", "rect")
STYLES = ("regular", "bold", "italic")
DEFAULT_FONTS = {"regular": "DejaVuSans", "bold": "DejaVuSans-Bold", "italic": "DejaVuSans-Oblique"}
# The register's fields a record carries under ``person`` (the contract with print production).
PERSON_FIELDS = (
    "id",
    "family_name",
    "given_names",
    "sex",
    "language",
    "care_of",
    "house_number",
    "street",
    "postcode",
    "locality",
    "country",
)
# What a record may hold, besides the campaign's own fields declared in ``fields``.
RECORD_NAMES = frozenset(
    {
        "piece_id",
        "piece_ref",
        "sequence",
        "person",
        "code",
        "qr",
        "letter_date",
        "valid_from",
        "valid_until",
        "campaign",
        "t",
    }
)


@dataclass(frozen=True)
class Window:
    """An envelope window: where the address must be, and where nothing else may be."""

    name: str
    x: float
    y: float
    width: float
    height: float


# DIN 5008's remark zone: the window's top 17 mm, above the address zone. It holds the small return
# address and may hold remarks (the piece's reference, a code for returned mail); the address starts below.
REMARK_ZONE_MM = 17.0

ENVELOPES = {
    # DIN 5008 form B, as in C5 and DL window envelopes: 20 mm from the left, 45 mm from the top, 85 x 45 mm.
    "C5_DIN5008_B": Window("C5 window envelope (DIN 5008 B)", 20, 45, 85, 45),
    "DL_DIN5008_B": Window("DL window envelope (DIN 5008 B)", 20, 45, 85, 45),
    # DIN 5008 form A: the window 27 mm from the top.
    "C5_DIN5008_A": Window("C5 window envelope (DIN 5008 A)", 20, 27, 85, 45),
}


@dataclass(frozen=True)
class Element:
    kind: str
    name: str
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    x2: float = 0.0
    y2: float = 0.0
    text: str = ""
    source: str = ""
    size: float = 10.0
    leading: float = 0.0
    style: str = "regular"
    align: str = "left"
    gray: float = 0.0
    color: str = ""
    fill: float | None = None
    stroke: str | float | None = None  # a rect's outline: "#rrggbb" or a gray level, with its fill
    line_width: float = 0.5
    ec_level: str = "M"
    mask: int | None = DEFAULT_QR_MASK  # None: the encoder tries all eight (``mask = "auto"``)
    quiet_zone: int = 4
    file: str = ""
    static: bool = False


@dataclass
class Template:
    path: Path
    name: str
    width_mm: float
    height_mm: float
    duplex: bool
    window: Window
    fonts: dict[str, str]
    languages: tuple[str, ...]
    fallback: dict[str, str]
    pages: list[list[Element]]
    texts: dict[str, dict[str, str]]  # source -> language -> text
    strings: dict[str, dict[str, Any]]  # language -> key -> text
    fields: frozenset[str]
    mark: tuple[float, float, float]  # inserter mark: x, y, size in mm
    background: Path | None
    environment: jinja2.Environment = field(repr=False)
    _compiled: dict[str, jinja2.Template] = field(default_factory=dict, repr=False)
    # Each print file asks which elements read only the language: parsing every text again cost a
    # statement (200 table cells) a second per file.
    _placeholders: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def language_for(self, requested: str) -> str:
        if requested in self.languages:
            return requested
        fallback = self.fallback.get(requested) or self.fallback.get("default") or self.languages[0]
        return fallback if fallback in self.languages else self.languages[0]

    def compiled(self, source: str) -> jinja2.Template:
        template = self._compiled.get(source)
        if template is None:
            template = self._compiled[source] = self.environment.from_string(source)
        return template

    def placeholders(self, source: str) -> set[str]:
        found = self._placeholders.get(source)
        if found is None:
            parsed = self.environment.parse(source)
            found = self._placeholders[source] = frozenset(jinja2.meta.find_undeclared_variables(parsed))
        return set(found)


def _environment() -> jinja2.Environment:
    @jinja2.pass_context
    def date(context: Any, value: Any, style: str = "long") -> str:
        if value is None or value == "":
            # "valid until ." is a wrong letter: fail it. A template that allows no date says
            # {% if valid_until %}...{% endif %}.
            raise CompositionError("a date the text needs is empty", code="missing_value")
        language, country = context.get("language", "fr"), _destination(context)
        if isinstance(value, str | dt.date):  # a few dozen distinct dates in a print run
            return _date_text(value, language, style, country)
        return _date_text.__wrapped__(value, language, style, country)

    @jinja2.pass_context
    def number_filter(context: Any, value: Any) -> str:
        return format_number(value, context.get("language", "fr"), _destination(context))

    @jinja2.pass_context
    def money(context: Any, value: Any, currency: str = "EUR") -> str:
        return format_money(value, context.get("language", "fr"), currency, _destination(context))

    @jinja2.pass_context
    def phone(context: Any, value: Any) -> str:
        return format_phone(str(value), _destination(context))

    @jinja2.pass_context
    def salutation_filter(context: Any, person: Any) -> str:
        return salutation(person or {}, context.get("language", "fr"), context.get("t"))

    return letter_environment(
        {
            "date": date,
            "number": number_filter,
            "money": money,
            "phone": phone,
            "salutation": salutation_filter,
        }
    )


@lru_cache(maxsize=4096)
def _date_text(value: Any, language: str, style: str, country: str) -> str:
    # No-break spaces: a date is never split across two lines.
    return format_date(value, language, style, country).replace(" ", "\xa0")


def _destination(context: Any) -> str:
    person = context.get("person") or {}
    return str(person.get("country") or HOME_COUNTRY) if isinstance(person, Mapping) else HOME_COUNTRY


def load_template(path: Path, *, verify: bool = True) -> Template:
    """Read and check a template folder (one-line :class:`TemplateError` naming what is wrong).

    ``verify`` also refuses what the sandbox would refuse and opens every image, font and background
    (once per process: a worker loads a template once); ``template check`` says ``verify=False`` and
    reports each of those problems itself."""
    manifest = path / "template.toml"
    if not manifest.is_file():
        raise TemplateError(f"{path} is not a template: it has no template.toml", code="template_not_found")
    try:
        config = tomllib.loads(read_text_asset(inside_template(path, "template.toml", "file"), "template"))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{manifest}: {error}", code="bad_template") from error
    page = config.get("page", {})
    size = page.get("size", "A4")
    width_mm, height_mm = (
        PAGE_SIZES[size.upper()] if isinstance(size, str) and size.upper() in PAGE_SIZES else size
    )
    envelope = page.get("envelope", "C5_DIN5008_B")
    if envelope not in ENVELOPES:
        raise TemplateError(
            f"{manifest}: unknown envelope {envelope!r}; one of {', '.join(ENVELOPES)}", code="bad_template"
        )
    languages = tuple(config.get("languages", ["fr"]))
    pages = [
        [_element(manifest, number, index, raw) for index, raw in enumerate(page_config.get("elements", []))]
        for number, page_config in enumerate(config.get("pages", []), start=1)
    ]
    if not pages:
        raise TemplateError(f"{manifest}: no [[pages]]", code="bad_template")
    sources = {element.source for page_elements in pages for element in page_elements if element.source}
    texts = {source: _per_language(path, source, languages, "md") for source in sources}
    strings = {language: _strings(path, language) for language in languages}
    mark = config.get("inserter_mark", {})
    background = inside_template(path, "background.pdf", "background")
    loaded = Template(
        path=path,
        name=config.get("name", path.name),
        width_mm=float(width_mm),
        height_mm=float(height_mm),
        duplex=bool(page.get("duplex", False)),
        window=ENVELOPES[envelope],
        fonts=DEFAULT_FONTS | {k: _font_path(path, v) for k, v in config.get("fonts", {}).items()},
        languages=languages,
        fallback=dict(config.get("fallback", {"default": languages[0]})),
        pages=pages,
        texts=texts,
        strings=strings,
        fields=frozenset(config.get("fields", [])),
        mark=(float(mark.get("x", 6)), float(mark.get("y", 250)), float(mark.get("size", 8))),
        background=background if background.exists() else None,
        environment=_environment(),
    )
    if verify:
        refused = next(itertools.chain(unsafe_errors(loaded), asset_errors(loaded)), None)
        if refused is not None:
            raise refused
    return loaded


def unsafe_errors(template: Template) -> Iterator[TemplateError]:
    """A text reaching for what the sandbox refuses is refused whole, before any letter."""
    for where, source in template_sources(template):
        try:
            found = list(unsafe_constructs(template.environment, source))
        except jinja2.TemplateSyntaxError as error:
            # Every letter using the text would fail: refused whole, before any letter is composed.
            yield TemplateError(f"{where}, line {error.lineno}: {error.message}", code="template_syntax")
            continue
        for construct in found:
            yield TemplateError(
                f"{where}: {construct} is not allowed in a letter template", code="template_unsafe"
            )


def asset_errors(template: Template) -> Iterator[TemplateError]:
    """Each font, image and background of the template that cannot be used, as an error naming it."""
    from courrier.compose.fonts import load_face

    for font in dict.fromkeys(template.fonts.values()):
        try:
            load_face(font)
        except TemplateError as error:
            yield error
    for page_elements in template.pages:
        for element in page_elements:
            if element.kind == "image":
                try:
                    open_image(inside_template(template.path, element.file, element.name), element.name)
                except TemplateError as error:
                    yield error
    if template.background is not None:
        try:
            open_background(template.background)
        except TemplateError as error:
            yield error


def template_sources(template: Template) -> list[tuple[str, str]]:
    """(where, Jinja source) of every text of the template: elements, body texts, strings."""
    found = []
    for elements in template.pages:
        for element in elements:
            if element.text:
                found.append((element.name, element.text))
    for source, languages in template.texts.items():
        for language, text in languages.items():
            found.append((f"{source}.{language}.md", text))
    for language, strings in template.strings.items():
        for key, value in strings.items():
            if isinstance(value, str):
                found.append((f"strings.{language}.toml: {key}", value))
    return found


def _strings(folder: Path, language: str) -> dict[str, Any]:
    file = inside_template(folder, f"strings.{language}.toml", "strings")
    if not file.exists():
        return {}
    try:
        raw = tomllib.loads(read_text_asset(file, "strings"))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{file}: {error}", code="bad_template") from error
    return {
        key: TemplateText(typographic_spaces(value, language)) if isinstance(value, str) else value
        for key, value in raw.items()
    }


def _font_path(folder: Path, value: str) -> str:
    """A bundled font's name as it is, or a font file inside the template folder."""
    if value in DEFAULT_FONTS.values():
        return value
    candidate = inside_template(folder, value, "font")
    if not candidate.is_file():
        raise TemplateError(
            f"{folder}: font {value!r} is neither a bundled font ({', '.join(DEFAULT_FONTS.values())}) "
            "nor a file in the template folder",
            code="bad_font",
        )
    return str(candidate)


def _per_language(folder: Path, source: str, languages: tuple[str, ...], extension: str) -> dict[str, str]:
    texts = {}
    for language in languages:
        file = inside_template(folder, f"{source}.{language}.{extension}", "text")
        if not file.exists():
            raise TemplateError(
                f"{folder}: {file.name} is missing (language {language})", code="missing_text"
            )
        texts[language] = typographic_spaces(read_text_asset(file, "text"), language)
    return texts


_JINJA_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)
_QUOTED = re.compile(r'"([^"\n]+)"')
# Each language's quotation marks (outer level); French and Portuguese guillemets take no-break spaces
# in French only.
QUOTES = {"fr": ("«\xa0", "\xa0»"), "pt": ("«", "»"), "de": ("„", "“"), "lb": ("„", "“"), "en": ("“", "”")}


def typographic_spaces(source: str, language: str) -> str:
    """A template text set as its language is printed: typographic apostrophes (``l’heure``) and
    quotation marks (« », „ “, “ ”), and in French the spaces before ``: ; ? !`` and inside « »
    made unbreakable (``code :``). Jinja tags are left as they are. Done once per template, not per
    letter."""
    if "'" not in source and '"' not in source and (language != "fr" or not FRENCH_SPACES.search(source)):
        return source
    return "".join(
        part if index % 2 else _typeset(part, language) for index, part in enumerate(_JINJA_TAG.split(source))
    )


def _typeset(text: str, language: str) -> str:
    text = text.replace("'", "\u2019")
    opening, closing = QUOTES.get(language, QUOTES["en"])
    text = _QUOTED.sub(lambda match: f"{opening}{match.group(1)}{closing}", text)
    return french_spacing(text) if language == "fr" else text


def _qr_mask(manifest: Path, name: str, value: Any) -> int | None:
    if value == "auto":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value in MASKS:
        return value
    raise TemplateError(f'{manifest}: {name}: mask must be 0 to 7 or "auto"', code="bad_template")


def _is_colour(value: Any) -> bool:
    if isinstance(value, str):
        return re.fullmatch(r"#[0-9a-fA-F]{6}", value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _element(manifest: Path, page: int, index: int, raw: Mapping[str, Any]) -> Element:
    kind = raw.get("type")
    name = str(raw.get("name") or f"page {page} element {index + 1} ({kind})")
    if kind not in ELEMENT_KINDS:
        raise TemplateError(
            f"{manifest}: {name}: type {kind!r} is not one of {', '.join(ELEMENT_KINDS)}", code="bad_template"
        )
    known = set(Element.__dataclass_fields__) - {"kind", "name", "static"} | {"type", "name", "font", "ec"}
    unknown = set(raw) - known
    if unknown:
        raise TemplateError(
            f"{manifest}: {name}: unknown key(s) {', '.join(sorted(unknown))}", code="bad_template"
        )
    values = {
        key: value for key, value in raw.items() if key in Element.__dataclass_fields__ and key != "name"
    }
    values["style"] = raw.get("font", raw.get("style", "regular"))
    if values["style"] not in STYLES:
        raise TemplateError(
            f"{manifest}: {name}: font must be one of {', '.join(STYLES)}", code="bad_template"
        )
    if "ec" in raw:
        values["ec_level"] = raw["ec"]
    if values.get("ec_level", "M") not in EC_LEVELS:
        raise TemplateError(
            f"{manifest}: {name}: ec must be one of {', '.join(EC_LEVELS)}", code="bad_template"
        )
    if "mask" in raw:
        values["mask"] = _qr_mask(manifest, name, raw["mask"])
    if "stroke" in raw and not _is_colour(raw["stroke"]):
        raise TemplateError(
            f'{manifest}: {name}: stroke must be a colour ("#rrggbb") or a gray level from 0 to 1',
            code="bad_template",
        )
    if kind == "flow" and not (raw.get("text") or raw.get("source")):
        values["source"] = "text"
    element = Element(kind=kind, name=name, **values)
    dynamic = (
        "{{" in element.text
        or "{%" in element.text
        or element.source
        or kind in ("address", "qr", "datamatrix")
    )
    return Element(
        **{**element.__dict__, "static": not dynamic, "leading": element.leading or element.size * 1.3}
    )
