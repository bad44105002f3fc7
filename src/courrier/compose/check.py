"""``courrier template check``: what is wrong with a template, before a print run finds out.

Checks: placeholders a record cannot fill, elements outside the page, elements in the envelope window's
keep-out zone (only the address may be there), and characters the template's own texts use that its
fonts lack. Recipients' names are checked letter by letter at composition (``missing_glyph``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from courrier.compose.fonts import load_face
from courrier.compose.template import (
    PERSON_FIELDS,
    RECORD_NAMES,
    REMARK_ZONE_MM,
    Element,
    Template,
    asset_errors,
    load_template,
    template_sources,
    unsafe_errors,
)
from courrier.errors import TemplateError
from courrier.languages import LANGUAGES as REGISTER_LANGUAGES
from courrier.result import Result

# The quiet zone of a QR code must stay white too: elements are checked with it included.
_BARCODES = ("qr", "datamatrix")


@dataclass(frozen=True)
class Problem(Result):
    code: str
    where: str
    message: str
    severity: str = "error"  # "note": reported, and the template still passes


def language_fallbacks(template: Template) -> list[Problem]:
    """The register languages the template has no text for. A reader of one gets another language's
    letter: a note when the template declares that fallback (``fallback = { lb = "de" }``), an error
    when it would only be the catch-all ``default`` (a Luxembourgish reader silently sent German)."""
    problems = []
    for language in REGISTER_LANGUAGES:
        if language in template.languages:
            continue
        given = template.language_for(language)
        if language in template.fallback:
            problems.append(
                Problem(
                    "language_fallback",
                    "template.toml: fallback",
                    f"{language} readers get the {given} letter, as the template declares",
                    "note",
                )
            )
        else:
            problems.append(
                Problem(
                    "no_text_for_language",
                    "template.toml: languages",
                    f"{language} readers would get the {given} letter: write text.{language}.md and"
                    f" strings.{language}.toml, or declare fallback.{language}",
                )
            )
    return problems


def _require_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise TemplateError(f"template folder {folder} does not exist", code="template_not_found")


def require_valid_template(folder: Path) -> None:
    """Refuse a folder that is not a template, or one ``courrier template check`` rejects, with the
    first problem's code: ``campaign create`` calls it before any code is issued for the template."""
    _require_folder(folder)  # a missing or empty folder says so first
    # A note (a declared language fallback) is reported by ``template check`` and passes.
    problems = [problem for problem in check_template(load_template(folder)) if problem.severity != "note"]
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more: `courrier template check {folder}`)" if problems[1:] else ""
        raise TemplateError(f"template {folder}: {first.where}: {first.message}{more}", code=first.code)


def check_template(template: Template) -> list[Problem]:
    """Every problem found; ``template`` loaded with ``verify=False`` so that unsafe constructs and bad
    files are reported here one by one rather than the first of them refusing the load."""
    problems: list[Problem] = [
        Problem(error.code, "template", str(error))
        for error in (*unsafe_errors(template), *asset_errors(template))
    ]
    problems += _placeholders(template)
    problems += language_fallbacks(template)
    for number, elements in enumerate(template.pages, start=1):
        for element in elements:
            problems += _geometry(template, number, element)
    problems += _glyphs(template)
    return problems


def _placeholders(template: Template) -> list[Problem]:
    allowed = RECORD_NAMES | template.fields | {"language"}
    problems = []
    for where, source in template_sources(template):
        try:
            names = template.placeholders(source)
        except Exception as error:  # a Jinja syntax error: report it, keep checking the rest
            problems.append(Problem("template_syntax", where, str(error)))
            continue
        for name in sorted(names - allowed):
            problems.append(
                Problem(
                    "unknown_placeholder",
                    where,
                    f"{{{{ {name} }}}} is not a record field (declare it in `fields`)",
                )
            )
        for owner, attribute in sorted(_attributes(template, source)):
            if owner == "person" and attribute not in PERSON_FIELDS:
                problems.append(
                    Problem(
                        "unknown_placeholder",
                        where,
                        f"{{{{ person.{attribute} }}}} is not a register field: one of "
                        + ", ".join(PERSON_FIELDS),
                    )
                )
            elif owner == "t" and any(attribute not in strings for strings in template.strings.values()):
                problems.append(
                    Problem(
                        "missing_string",
                        where,
                        f"{{{{ t.{attribute} }}}} is missing from a strings.<language>.toml",
                    )
                )
    strings_keys = [set(strings) for strings in template.strings.values()]
    if strings_keys and any(keys != strings_keys[0] for keys in strings_keys):
        problems.append(
            Problem("missing_string", "strings.*.toml", "the languages do not define the same keys")
        )
    return problems


def _attributes(template: Template, source: str) -> set[tuple[str, str]]:
    """(``person``, ``family_name``) for each ``person.family_name`` (or ``person["..."]``) in a source."""
    found = set()
    parsed = template.environment.parse(source)
    for getattr_node in parsed.find_all(nodes.Getattr):
        if isinstance(getattr_node.node, nodes.Name):
            found.add((getattr_node.node.name, getattr_node.attr))
    for getitem_node in parsed.find_all(nodes.Getitem):
        owner, key = getitem_node.node, getitem_node.arg
        if isinstance(owner, nodes.Name) and isinstance(key, nodes.Const) and isinstance(key.value, str):
            found.add((owner.name, key.value))
    return found


def _box(template: Template, element: Element) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) in mm, or None for an element without a known extent."""
    if element.kind == "line":
        return (
            min(element.x, element.x2),
            min(element.y, element.y2),
            max(element.x, element.x2),
            max(element.y, element.y2),
        )
    if element.kind in _BARCODES:
        margin = element.width * element.quiet_zone / 25 if element.kind == "qr" else element.width / 10
        return (
            element.x - margin,
            element.y - margin,
            element.x + element.width + margin,
            element.y + element.width + margin,
        )
    if element.kind in ("rect", "image", "flow"):
        return element.x, element.y, element.x + element.width, element.y + element.height
    if element.kind == "text":
        height = element.size * 0.3528  # points to mm
        if element.width:
            return element.x, element.y, element.x + element.width, element.y + height
        return element.x, element.y, element.x, element.y + height
    return None


def _geometry(template: Template, page: int, element: Element) -> list[Problem]:
    box = _box(template, element)
    if box is None:
        return []
    left, top, right, bottom = box
    problems = []
    if left < 0 or top < 0 or right > template.width_mm or bottom > template.height_mm:
        problems.append(
            Problem(
                "outside_page",
                element.name,
                f"lies outside the {template.width_mm:g} x {template.height_mm:g} mm page",
            )
        )
    window = template.window
    inside = not (
        right <= window.x
        or left >= window.x + window.width
        or bottom <= window.y
        or top >= window.y + window.height
    )
    # A remark (text or Data Matrix: the piece's reference) may sit in the window's remark zone, wholly
    # above the address zone.
    remark = element.kind in ("text", "datamatrix") and bottom <= window.y + REMARK_ZONE_MM
    if (
        page == 1
        and inside
        and not remark
        and element.kind != "address"
        and not (element.kind == "rect" and element.fill is None and not element.color)
    ):
        problems.append(
            Problem(
                "in_window",
                element.name,
                f"overlaps the envelope window ({window.name}): only the address may be there",
            )
        )
    return problems


def _glyphs(template: Template) -> list[Problem]:
    faces = {}
    for style, name in template.fonts.items():
        try:
            faces[style] = load_face(name)
        except TemplateError:
            continue  # reported with the other bad files
    problems = []
    for where, source in template_sources(template):
        missing = sorted(
            {
                char
                for char in source
                if not char.isspace() and not all(face.has(char) for face in faces.values())
            }
        )
        if missing:
            shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in missing[:5])
            problems.append(Problem("missing_glyph", where, f"the fonts lack {shown}"))
    return problems
