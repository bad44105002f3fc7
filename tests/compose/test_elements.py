"""Each kind of element a template may hold, seen on the rendered page; and the errors of one letter."""

from __future__ import annotations

import io
from itertools import pairwise
from pathlib import Path

import pikepdf
import pytest
import zxingcpp
from PIL import Image

from courrier.compose import compose_job, load_template
from courrier.compose.layout import LETTER_SPACING_EM, MAX_SPACE_RATIO
from courrier.compose.template import MM
from courrier.errors import TemplateError

from .conftest import Word, record

BODY = (
    "Guten Tag {{ person.given_names }} {{ person.family_name }},\n\n"
    "die *Gesundheitsdirektion* lädt Sie zur **Schutzimpfung** ein. Bitte bringen Sie Ihre "
    "Sozialversicherungskarte, Ihren Personalausweis und diesen Brief mit. Die Impfung findet in der "
    "Impfstation {{ centre }} statt; die Terminvereinbarung erfolgt online oder telefonisch.\n"
)


def _background(path: Path) -> None:
    """A designer's artwork: a dark band 10 mm high across the top of the page."""
    pdf = pikepdf.new()
    width, height = 210 * MM, 297 * MM
    pdf.add_blank_page(page_size=(width, height))
    band = b"0.2 g 0 %.2f %.2f %.2f re f" % (height - 10 * MM, width, 10 * MM)
    pdf.pages[0].Contents = pdf.make_stream(band)
    pdf.save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "elements"
    folder.mkdir()
    _background(folder / "background.pdf")
    Image.new("L", (40, 40), 0).save(folder / "logo.png")  # a black square
    (folder / "text.de.md").write_text(BODY, encoding="utf-8")
    (folder / "template.toml").write_text(
        """
languages = ["de"]
fields = ["centre"]
[[pages]]
[[pages.elements]]
type = "image"
file = "logo.png"
x = 150
y = 20
width = 20
height = 20
[[pages.elements]]
type = "address"
[[pages.elements]]
type = "datamatrix"
name = "check"
x = 150
y = 60
width = 20
text = "{{ piece_id }}|{{ code }}"
[[pages.elements]]
type = "rect"
x = 25
y = 100
width = 60
height = 8
fill = 0.0
[[pages.elements]]
type = "rect"
name = "outline only"
x = 100
y = 130
width = 30
height = 12
stroke = 0.0
line_width = 2
[[pages.elements]]
type = "rect"
name = "filled and outlined"
x = 140
y = 130
width = 30
height = 12
fill = 0.8
stroke = "#000000"
line_width = 2
[[pages.elements]]
type = "line"
x = 25
y = 115
x2 = 185
y2 = 115
line_width = 1
[[pages.elements]]
type = "flow"
name = "body"
x = 25
y = 125
width = 62
height = 100
align = "justify"
""",
        encoding="utf-8",
    )
    return folder


def letter(piece_id: int, centre: str = "Impfzentrum Kirchberg") -> dict[str, object]:
    return record(piece_id, "Weber", language="de") | {"centre": centre}


def _dark(page: Image.Image, x_mm: float, y_mm: float, resolution: int = 150) -> bool:
    x, y = round(x_mm / 25.4 * resolution), round(y_mm / 25.4 * resolution)
    return int(page.getpixel((x, y))) < 100


def test_artwork_images_shapes_and_data_matrix_reach_the_page(folder, pdf_tools, tmp_path: Path):
    pdf = tmp_path / "job.pdf"
    result = compose_job(load_template(folder), [letter(7)], pdf)
    assert result.letters == 1
    pdf_tools.check(pdf)
    page = pdf_tools.render(pdf, 1)
    assert _dark(page, 100, 5)  # the background's band
    assert _dark(page, 160, 30)  # the image
    assert _dark(page, 50, 104)  # the filled rectangle
    # A stroke without a fill: the outline, and paper inside it.
    assert _dark(page, 100.2, 136)
    assert _dark(page, 115, 130.2)
    assert not _dark(page, 115, 136)
    # A fill and a stroke: light gray inside a black outline.
    assert _dark(page, 140.2, 136)
    assert not _dark(page, 155, 136)
    assert 150 < int(page.getpixel((round(155 / 25.4 * 150), round(136 / 25.4 * 150)))) < 230
    assert _dark(page, 100, 115)  # the line
    assert not _dark(page, 100, 95)  # and nothing where nothing was placed
    assert pdf_tools.barcodes(pdf, 1)["DataMatrix"] == "7|7KQ3-MZ8P-TXV4-H9"
    # Square, in the 20 x 20 mm the template gives it (this content would make a rectangular one).
    (symbol,) = [found for found in zxingcpp.read_barcodes(page) if found.format.name == "DataMatrix"]
    corners = [symbol.position.top_left, symbol.position.bottom_right]
    width_mm, height_mm = ((b - a) * 25.4 / 150 for a, b in zip(*((c.x, c.y) for c in corners), strict=True))
    assert 19 < width_mm < 21
    assert 19 < height_mm < 21


def test_the_artwork_is_written_once_per_file(folder, tmp_path: Path):
    pdf = tmp_path / "job.pdf"
    compose_job(load_template(folder), [letter(n) for n in range(1, 6)], pdf)
    with pikepdf.open(pdf) as document:
        band = [
            obj
            for obj in document.objects
            if isinstance(obj, pikepdf.Stream) and b"0.2 g 0 " in obj.read_bytes()
        ]
        images = [obj for obj in document.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Width")]
        assert len(band) == 1
        assert len(images) == 1
        assert len(document.pages) == 5


def _lines(words: list[Word]) -> list[list[Word]]:
    lines: dict[float, list[Word]] = {}
    for word in words:
        lines.setdefault(round(word.y_mm, 1), []).append(word)
    return [sorted(line, key=lambda w: w.x_mm) for _, line in sorted(lines.items())]


def test_a_narrow_column_is_justified_and_hyphenated(folder, pdf_tools, tmp_path: Path):
    pdf = tmp_path / "job.pdf"
    compose_job(load_template(folder), [letter(1)], pdf)
    body = _lines([w for w in pdf_tools.words(pdf) if 124 < w.y_mm < 226 and w.x_mm < 90])
    # German words in a 62 mm column: some lines end in a hyphen, and every word is still there.
    assert sum(1 for line in body if line[-1].text.endswith("-")) >= 2
    text = " ".join(w.text for line in body for w in line).replace("- ", "")
    for word in ("Gesundheitsdirektion", "Sozialversicherungskarte", "Terminvereinbarung", "Kirchberg"):
        assert word in text
    # Justified: most lines end at the column's right edge (25 + 62 mm); but no space is stretched past
    # the limit (a line that would need more ends short of the margin: no holes in a narrow column).
    flush = [line for line in body if abs(line[-1].right_mm - 87) < 0.5]
    assert len(flush) >= len(body) // 2
    space_mm = 713 / 2048 * 10 * 25.4 / 72  # the bold space, the widest
    tracking_mm = 2 * LETTER_SPACING_EM * 10 * 25.4 / 72  # a loose line's letter spacing, both sides
    for line in body:
        gaps = [after.x_mm - before.right_mm for before, after in pairwise(line)]
        assert max(gaps, default=0) <= MAX_SPACE_RATIO * space_mm + tracking_mm + 0.05, [w.text for w in line]
    assert all(abs(line[0].x_mm - 25) < 0.5 for line in body)


def test_text_too_long_for_its_box_fails_that_letter_only(folder):
    letters = [letter(1), letter(2, "Impfzentrum Kirchberg " * 60), letter(3)]
    result = compose_job(load_template(folder), letters, io.BytesIO())
    assert [p.ok for p in result.pieces] == [True, False, True]
    assert (result.pieces[1].error_code, result.pieces[1].error_field) == ("text_overflow", "body")
    assert result.pages == 2


def test_a_character_the_font_lacks_names_the_field(folder):
    letters = [letter(1), letter(2, "Impfzentrum 漢")]
    result = compose_job(load_template(folder), letters, io.BytesIO())
    assert result.pieces[0].ok
    assert (result.pieces[1].error_code, result.pieces[1].error_field) == ("missing_glyph", "body")


@pytest.mark.parametrize("width_mm", [44, 48, 52, 56, 60])
def test_a_date_is_never_split_across_lines(tmp_path: Path, pdf_tools, width_mm: int):
    folder = tmp_path / "dates"
    folder.mkdir()
    (folder / "text.de.md").write_text(
        "Ihr persönlicher Code ist vom {{ valid_from | date }} bis zum **{{ valid_until | date }}** "
        "gültig, an jedem Tag der Woche.\n",
        encoding="utf-8",
    )
    (folder / "template.toml").write_text(
        f'languages = ["de"]\n[[pages]]\n[[pages.elements]]\ntype = "flow"\nname = "body"\n'
        f"x = 25\ny = 125\nwidth = {width_mm}\nheight = 60\n",
        encoding="utf-8",
    )
    pdf = tmp_path / "job.pdf"
    compose_job(load_template(folder), [letter(1)], pdf)
    lines = [line.strip() for line in pdf_tools.text(pdf).splitlines()]
    assert any("12. März 2026" in line for line in lines), lines
    assert any("26. März 2026" in line for line in lines), lines


@pytest.mark.parametrize("mask", ["2", "5", '"auto"'])
def test_a_qr_code_decodes_whichever_mask_it_is_made_with(folder, pdf_tools, tmp_path: Path, mask: str):
    manifest = folder / "template.toml"
    manifest.write_text(
        manifest.read_text("utf-8")
        + f'[[pages.elements]]\ntype = "qr"\nx = 150\ny = 240\nwidth = 25\nmask = {mask}\n'
        + "text = \"https://rdv.example.lu/c/{{ code | replace('-', '') }}\"\n",
        encoding="utf-8",
    )
    pdf = tmp_path / "job.pdf"
    compose_job(load_template(folder), [letter(1)], pdf)
    assert pdf_tools.barcodes(pdf, 1)["QRCode"] == "https://rdv.example.lu/c/7KQ3MZ8PTXV4H9"


@pytest.mark.parametrize("mask", ["8", '"best"', "true"])
def test_a_qr_mask_that_does_not_exist_is_refused(folder, mask: str):
    manifest = folder / "template.toml"
    manifest.write_text(
        manifest.read_text("utf-8")
        + f'[[pages.elements]]\ntype = "qr"\nx = 150\ny = 240\nwidth = 25\nmask = {mask}\n',
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match="mask must be 0 to 7"):
        load_template(folder)


@pytest.mark.parametrize("stroke", ['"red"', '"#12345"', "1.5", "true"])
def test_a_stroke_that_is_no_colour_is_refused(folder, stroke: str):
    manifest = folder / "template.toml"
    manifest.write_text(
        manifest.read_text("utf-8")
        + f'[[pages.elements]]\ntype = "rect"\nx = 150\ny = 240\nwidth = 25\nheight = 5\nstroke = {stroke}\n',
        encoding="utf-8",
    )
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code == "bad_template"
    assert "stroke must be" in str(caught.value)


def test_elements_set_alike_share_their_layout_but_name_their_own_field(tmp_path: Path, pdf_tools):
    """Two single-line elements of one style, size and width share a typesetter (and the lines it laid
    out): a text that fails still names the element it is in, and each is drawn at its own place."""
    folder = tmp_path / "alike"
    folder.mkdir()
    (folder / "template.toml").write_text(
        """
languages = ["de"]
fields = ["first", "second"]
[[pages]]
[[pages.elements]]
type = "text"
name = "first"
x = 30
y = 150
size = 9
text = "{{ first }}"
[[pages.elements]]
type = "text"
name = "second"
x = 30
y = 160
size = 9
text = "{{ second }}"
""",
        encoding="utf-8",
    )
    letters = [
        record(1, "Weber", language="de") | {"first": "Kirchberg", "second": "Kirchberg"},
        record(2, "Weber", language="de") | {"first": "Kirchberg", "second": "Impfzentrum 漢"},
        record(3, "Weber", language="de") | {"first": "漢", "second": "Kirchberg"},
    ]
    out = io.BytesIO()
    result = compose_job(load_template(folder), letters, out)
    fields = [(p.ok, p.error_field) for p in result.pieces]
    assert fields == [(True, None), (False, "second"), (False, "first")]
    path = tmp_path / "alike.pdf"
    path.write_bytes(out.getvalue())
    words = [w for w in pdf_tools.words(path) if w.text == "Kirchberg"]
    assert sorted(round(w.x_mm) for w in words) == [30, 30]
    assert round(abs(words[0].y_mm - words[1].y_mm)) == 10
