"""A designer's background.pdf from real producers, imported and rendered by three RIPs alike.

Two independent producers: Ghostscript's pdfwrite from PostScript, as a designer exports for print
(``-dPDFSETTINGS=/prepress``: every font embedded; Type 1C subsets, an axial
shading, an image, two pages) and ReportLab (an embedded TrueType font, a gradient, an image, a nested
form, two pages). Each background goes through a two-page duplex template with nothing else on it, so
the letter's pages must look exactly like the background's: Ghostscript, poppler and MuPDF render both,
and every rendering is compared with every other by pixels.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from courrier.compose import compose_job, load_template

from ..conftest import require_binary
from .conftest import ROOT, PdfTools, record

RESOLUTION = 100
# Compared as the means of 16 x 16 pixel blocks (4 mm): the three renderers anti-alias glyph edges and
# smooth images each their own way, pixel by pixel (up to 50 levels on a heading's pixels), but a block
# holding part of a lost or substituted word changes by far more than the tolerance.
BLOCK = 16
MEAN_TOLERANCE = 2.0
BLOCK_TOLERANCE = 20.0

POSTSCRIPT = """%!PS-Adobe-3.0
%%Pages: 2
%%Page: 1 1
<< /PageSize [595.28 841.89] >> setpagedevice
/Helvetica-Bold findfont 20 scalefont setfont
0.2 setgray 60 780 moveto (Designer front page) show
<< /ShadingType 2 /ColorSpace /DeviceGray /Coords [60 0 535 0]
   /Function << /FunctionType 2 /Domain [0 1] /C0 [0.3] /C1 [0.9] /N 1 >> >>
gsave 60 700 475 40 rectclip shfill grestore
0 setgray 1 setlinewidth 60 60 moveto 535 60 lineto stroke
/Times-Roman findfont 9 scalefont setfont 60 45 moveto (Footer written in PostScript) show
gsave 480 760 translate 40 40 scale
64 64 1 [64 0 0 -64 0 64] {<CHECKER>} image grestore
showpage
%%Page: 2 2
/Helvetica findfont 14 scalefont setfont 0.3 setgray 60 780 moveto (Back page: conditions) show
showpage
%%EOF
"""


def checker(size: int = 64, square: int = 8) -> np.ndarray:
    """A checkerboard image; squares of several pixels, as renderers smooth single-pixel detail apart."""
    return (np.indices((size, size)) // square).sum(axis=0) % 2 == 1


def ghostscript_background(path: Path) -> None:
    source = path.with_suffix(".ps")
    source.write_text(POSTSCRIPT.replace("CHECKER", np.packbits(checker()).tobytes().hex()), encoding="ascii")
    gs = require_binary("gs")
    subprocess.run(
        [
            gs,
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pdfwrite",
            "-dPDFSETTINGS=/prepress",
            f"-sOutputFile={path}",
            str(source),
        ],
        check=True,
        capture_output=True,
    )


def reportlab_background(path: Path) -> None:
    from reportlab.lib.colors import Color
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font = ROOT / "src" / "courrier" / "compose" / "fonts" / "DejaVuSans-Bold.ttf"
    pdfmetrics.registerFont(TTFont("DesignerBold", str(font)))
    # ReportLab names Helvetica (never embedded) as every page's font unless told another.
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, initialFontName="DesignerBold")
    pdf.beginForm("logo")  # a form the page draws, holding another form: nested forms
    pdf.setFillGray(0.35)
    pdf.circle(20, 20, 18, stroke=0, fill=1)
    pdf.endForm()
    pdf.beginForm("badge")
    pdf.doForm("logo")
    pdf.setFont("DesignerBold", 9)
    pdf.setFillGray(0)
    pdf.drawString(44, 14, "Ministère · Gesondheet")
    pdf.endForm()
    pdf.doForm("badge")
    pdf.saveState()
    path_shape = pdf.beginPath()
    path_shape.rect(60, 690, 475, 40)
    pdf.clipPath(path_shape, stroke=0, fill=0)
    pdf.linearGradient(60, 0, 535, 0, (Color(0.3, 0.3, 0.3), Color(0.9, 0.9, 0.9)), extend=False)
    pdf.restoreState()
    pdf.setFont("DesignerBold", 18)
    pdf.setFillGray(0.15)
    pdf.drawString(60, 770, "Designer front page, ReportLab")
    image = Image.fromarray((checker() * 255).astype(np.uint8))
    pdf.drawInlineImage(image, 480, 760, 40, 40)
    pdf.showPage()
    pdf.setFont("DesignerBold", 12)
    pdf.drawString(60, 780, "Back page from ReportLab: conditions générales")
    pdf.showPage()
    pdf.save()


PRODUCERS = {"ghostscript": ghostscript_background, "reportlab": reportlab_background}

TEMPLATE = """
name = "background-{producer}"
languages = ["fr"]
[page]
size = "A4"
duplex = true
[[pages]]
[[pages]]
"""


def render(renderer: str, pdf: Path, page: int) -> np.ndarray:
    target = pdf.with_name(f"{pdf.stem}-{renderer}-{page}.png")
    if renderer == "gs":
        argv = [require_binary("gs"), "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray",
                f"-r{RESOLUTION}", f"-dFirstPage={page}", f"-dLastPage={page}",
                f"-sOutputFile={target}", str(pdf)]  # fmt: skip
    elif renderer == "poppler":
        argv = [require_binary("pdftoppm"), "-gray", "-png", "-singlefile", "-r", str(RESOLUTION),
                "-f", str(page), "-l", str(page), str(pdf), str(target.with_suffix(""))]  # fmt: skip
    else:
        argv = [require_binary("mutool"), "draw", "-q", "-c", "gray", "-r", str(RESOLUTION),
                "-o", str(target), str(pdf), str(page)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "cycle" not in done.stderr.lower(), done.stderr
    return np.asarray(Image.open(target).convert("L"), dtype=np.float32)


def blocks(image: np.ndarray, height: int, width: int) -> np.ndarray:
    rows, columns = height // BLOCK, width // BLOCK
    cut = image[: rows * BLOCK, : columns * BLOCK]
    return cut.reshape(rows, BLOCK, columns, BLOCK).mean(axis=(1, 3))


def assert_alike(first: np.ndarray, second: np.ndarray, what: str) -> None:
    # Renderers round the page's pixel size either way (827 or 828 pixels for A4's width at 100 dpi).
    assert abs(first.shape[0] - second.shape[0]) <= 1, what
    assert abs(first.shape[1] - second.shape[1]) <= 1, what
    height, width = min(first.shape[0], second.shape[0]) - 2, min(first.shape[1], second.shape[1]) - 2
    reference = blocks(second[1 : height + 1, 1 : width + 1], height, width)
    # Renderers place a glyph to within a pixel of each other: the best of the nine one-pixel shifts.
    difference = np.min(
        [
            np.abs(blocks(first[dy : dy + height, dx : dx + width], height, width) - reference)
            for dy in (0, 1, 2)
            for dx in (0, 1, 2)
        ],
        axis=0,
    )
    assert float(difference.mean()) < MEAN_TOLERANCE, f"{what}: mean {difference.mean():.2f}"
    worst = np.unravel_index(int(difference.argmax()), difference.shape)
    assert float(difference.max()) < BLOCK_TOLERANCE, (
        f"{what}: {difference.max():.1f} at x={worst[1] * BLOCK * 25.4 / RESOLUTION:.0f} mm,"
        f" y={worst[0] * BLOCK * 25.4 / RESOLUTION:.0f} mm"
    )


@pytest.fixture(params=sorted(PRODUCERS))
def composed(request, tmp_path: Path) -> tuple[Path, Path]:
    """(the designer's background.pdf, a letter composed on it)."""
    folder = tmp_path / "template"
    folder.mkdir()
    (folder / "template.toml").write_text(TEMPLATE.format(producer=request.param), encoding="utf-8")
    PRODUCERS[request.param](folder / "background.pdf")
    pdf = tmp_path / "letter.pdf"
    result = compose_job(load_template(folder), [record(1, "Schmit")], pdf)
    assert result.pages == 2
    return folder / "background.pdf", pdf


def test_the_imported_background_is_a_sound_pdf(composed, pdf_tools: PdfTools):
    _, pdf = composed
    done = subprocess.run([pdf_tools.qpdf, "--check", str(pdf)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(" yes " in line for line in fonts.splitlines()[2:]), fonts  # every font embedded
    text = pdf_tools.text(pdf)
    assert "Designer front page" in text
    assert "Back page" in text


@pytest.mark.parametrize("page", [1, 2])
def test_three_renderers_draw_the_background_as_its_designer_made_it(composed, page: int):
    background, pdf = composed
    original = render("gs", background, page)
    renderings = {renderer: render(renderer, pdf, page) for renderer in ("gs", "poppler", "mupdf")}
    for renderer, image in renderings.items():
        assert_alike(image, original, f"{renderer} against the original")
    assert_alike(renderings["poppler"], renderings["gs"], "poppler against Ghostscript")
    assert_alike(renderings["mupdf"], renderings["gs"], "MuPDF against Ghostscript")
