"""The preflight script (bench/preflight.py), run on the print files the composer makes, as a print
room's intake runs it; and shown to find what it checks for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from courrier.compose import compose_job, load_template
from courrier.compose.print_condition import CONDITIONS

from .conftest import EXAMPLES, ROOT
from .test_backgrounds import TEMPLATE, ghostscript_background, reportlab_background

SCRIPT = ROOT / "bench" / "preflight.py"


def preflight(*paths: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", *map(str, paths)], capture_output=True, text=True, check=False
    )
    report: dict[str, list[str]] = json.loads(done.stdout)
    assert done.returncode == (1 if any(report.values()) else 0), done.stderr
    return report


def samples(name: str) -> list[dict]:
    lines = (EXAMPLES / name / "sample.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_every_example_template_passes_preflight(tmp_path: Path, condition: str):
    for name in ("vaccination", "mass-testing", "voucher"):
        result = compose_job(
            load_template(EXAMPLES / name),
            samples(name),
            tmp_path / f"{name}.pdf",
            job_id=f"J-{name}",
            condition=CONDITIONS[condition],
            sheet_marks=lambda index, _record, sheet, sheets: f"C1|J1|{index + 1:06d}|{sheet}/{sheets}|E",
        )
        assert result.letters > 0
    report = preflight(tmp_path)
    assert len(report) == 3
    assert report == {path: [] for path in report}


@pytest.mark.parametrize("producer", [ghostscript_background, reportlab_background])
def test_letters_on_a_designers_background_pass_preflight(tmp_path: Path, producer):
    folder = tmp_path / "template"
    folder.mkdir()
    (folder / "template.toml").write_text(TEMPLATE.format(producer="x"), encoding="utf-8")
    producer(folder / "background.pdf")
    compose_job(load_template(folder), [{"piece_id": "1"}], tmp_path / "letter.pdf")
    assert preflight(tmp_path / "letter.pdf") == {str(tmp_path / "letter.pdf"): []}


def test_preflight_finds_what_a_print_room_refuses(tmp_path: Path):
    good = tmp_path / "good.pdf"
    compose_job(load_template(EXAMPLES / "vaccination"), samples("vaccination")[:3], good)
    bad = tmp_path / "bad.pdf"
    with pikepdf.open(good) as document:
        del document.pages[1].obj["/TrimBox"]
        del document.Root.DPartRoot.DPartRootNode["/Parent"]
        document.trailer.Info.Trapped = pikepdf.Name("/Unknown")
        document.Root.Metadata = document.make_stream(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
        profile = document.Root.OutputIntents[0].DestOutputProfile
        data = bytearray(profile.read_bytes())
        data[12:16] = b"mntr"  # a display profile, as LittleCMS's built-in sRGB is
        profile.write(bytes(data))
        document.pages[0].Resources.ExtGState = pikepdf.Dictionary({"/GS9": pikepdf.Dictionary({"/ca": 0.5})})
        document.save(bad)
    problems = preflight(bad)[str(bad)]
    expected = (
        "page 2 has no TrimBox",
        "the root DPart's /Parent is not the DPartRoot",
        "Info Trapped is /Unknown, not True or False",
        "XMP lacks pdfxid:GTS_PDFXVersion",
        "output intent profile class mntr, not prtr (output)",
        "page 1: graphics state /GS9 is translucent",
    )
    for problem in expected:
        assert problem in problems, problems


def test_a_background_whose_fonts_are_not_embedded_is_found(tmp_path: Path, pdf_tools):
    folder = tmp_path / "template"
    folder.mkdir()
    (folder / "template.toml").write_text(TEMPLATE.format(producer="x"), encoding="utf-8")
    source = folder / "background.ps"
    source.write_text("%!PS\n/Helvetica findfont 20 scalefont setfont 60 780 moveto (Hello) show showpage\n")
    # pdfwrite's default settings leave the standard fonts out, as a careless export does.
    subprocess.run(
        [pdf_tools.gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite",
         f"-sOutputFile={folder / 'background.pdf'}", str(source)],
        check=True,
    )  # fmt: skip
    compose_job(load_template(folder), [{"piece_id": "1"}], tmp_path / "letter.pdf")
    problems = preflight(tmp_path / "letter.pdf")[str(tmp_path / "letter.pdf")]
    assert any("Helvetica" in problem and "not embedded" in problem for problem in problems), problems


def test_letters_pages_and_dparts_are_packed_in_object_streams(tmp_path: Path):
    # What keeps the boxes and DPart records under 3% of a letter's bytes: a letter's page and DPart
    # dictionaries go into compressed object streams, listed by a cross-reference stream.
    records = samples("vaccination") * 30
    paths = []
    for attempt in ("a", "b"):
        path = tmp_path / f"{attempt}.pdf"
        compose_job(load_template(EXAMPLES / "vaccination"), records, path, job_id="J-packed")
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    xref = subprocess.run(["qpdf", "--show-xref", str(paths[0])], capture_output=True, text=True, check=True)
    packed = {line.split("/")[0] for line in xref.stdout.splitlines() if "compressed;" in line}
    with pikepdf.open(paths[0]) as document:
        assert document.trailer.get("/Type") == "/XRef"
        assert len(document.pages) >= len(records)
        for page in document.pages:
            assert str(page.obj.objgen[0]) in packed
            assert str(page.obj.DPart.objgen[0]) in packed
            assert list(page.obj.TrimBox) == list(page.obj.BleedBox) == list(page.mediabox)
    check = subprocess.run(["qpdf", "--check", str(paths[0])], capture_output=True, text=True, check=False)
    assert check.returncode == 0
    assert "WARNING" not in check.stdout + check.stderr
