"""Preflight: check print files as a print room's intake would, against the PDF/X-4 and PDF/VT-1 points.

For every PDF given (or found in a folder given):

- XMP metadata: dc:title, xmp:CreateDate / ModifyDate / MetadataDate, xmpMM:DocumentID / InstanceID /
  VersionID / RenditionClass, pdf:Producer, pdf:Trapped, pdfxid:GTS_PDFXVersion = PDF/X-4,
  pdfvtid:GTS_PDFVTVersion = PDF/VT-1, pdfvtid:GTS_PDFVTModDate = xmp:ModifyDate;
- Info: Title, Producer, CreationDate, ModDate (agreeing with the XMP dates), Trapped True or False;
- every page has its own TrimBox and BleedBox (they are not inherited), inside the MediaBox;
- one GTS_PDFX output intent whose profile is an ICC output (``prtr``) profile, version 2 or 4, gray or
  CMYK, with as many components as its /N says;
- every font used anywhere (pages, forms, nested forms) embedded;
- no transparency (soft masks, constant alpha below 1, blend modes, transparency groups);
- the DPart tree: the root node's /Parent is the DPartRoot, every record's pages run in order over the
  document without gap or overlap, and every page names the record it belongs to.

    python bench/preflight.py FILE_OR_FOLDER... [--json]

Exit status 1 when any file has a problem; each problem is one line ``file: problem``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pikepdf

XMP_KEYS = (
    "dc:title",
    "xmp:CreateDate",
    "xmp:ModifyDate",
    "xmp:MetadataDate",
    "xmpMM:DocumentID",
    "xmpMM:InstanceID",
    "xmpMM:VersionID",
    "xmpMM:RenditionClass",
    "pdf:Producer",
    "pdf:Trapped",
    "pdfxid:GTS_PDFXVersion",
    "pdfvtid:GTS_PDFVTVersion",
    "pdfvtid:GTS_PDFVTModDate",
)
INFO_KEYS = ("/Title", "/Producer", "/CreationDate", "/ModDate", "/Trapped")


def preflight(path: Path) -> list[str]:
    """Every problem found in one print file, as lines (empty: the file passes)."""
    try:
        document = pikepdf.open(path)
    except pikepdf.PdfError as error:
        return [f"not a readable PDF: {error}"]
    with document:
        return [
            *_xmp_and_info(document),
            *_boxes(document),
            *_output_intent(document),
            *_fonts_and_transparency(document),
            *_dparts(document),
        ]


def _xmp_text(xmp: str, key: str) -> str | None:
    if key == "dc:title":
        found = re.search(r"<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.DOTALL)
    else:
        found = re.search(rf"<{key}>(.*?)</{key}>", xmp, re.DOTALL) or re.search(rf'{key}="([^"]*)"', xmp)
    return found.group(1) if found else None


def _pdf_date(value: str) -> str:
    """``D:20260312080000Z`` -> ``2026-03-12T08:00:00Z`` (the forms this project writes)."""
    digits = value.removeprefix("D:")
    return f"{digits[0:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{digits[12:14]}Z"


def _xmp_and_info(document: pikepdf.Pdf) -> Iterator[str]:
    metadata = document.Root.get("/Metadata")
    if metadata is None:
        yield "no XMP metadata in the catalog"
        return
    xmp = metadata.read_bytes().decode("utf-8", "replace")
    values = {key: _xmp_text(xmp, key) for key in XMP_KEYS}
    for key, value in values.items():
        if not value:
            yield f"XMP lacks {key}"
    if values["pdfxid:GTS_PDFXVersion"] not in (None, "PDF/X-4"):
        yield f"XMP GTS_PDFXVersion is {values['pdfxid:GTS_PDFXVersion']}, not PDF/X-4"
    if values["pdfvtid:GTS_PDFVTVersion"] not in (None, "PDF/VT-1"):
        yield f"XMP GTS_PDFVTVersion is {values['pdfvtid:GTS_PDFVTVersion']}, not PDF/VT-1"
    if values["pdfvtid:GTS_PDFVTModDate"] != values["xmp:ModifyDate"]:
        yield "XMP GTS_PDFVTModDate differs from xmp:ModifyDate"
    info = document.trailer.get("/Info")
    if info is None:
        yield "no Info dictionary"
        return
    for key in INFO_KEYS:
        if key not in info:
            yield f"Info lacks {key[1:]}"
    if "/Trapped" in info and str(info.Trapped) not in ("/True", "/False"):
        yield f"Info Trapped is {info.Trapped}, not True or False"
    for key, xmp_key in (("/CreationDate", "xmp:CreateDate"), ("/ModDate", "xmp:ModifyDate")):
        if key in info and values[xmp_key] and _pdf_date(str(info[key])) != values[xmp_key]:
            yield f"Info {key[1:]} {info[key]} differs from XMP {xmp_key} {values[xmp_key]}"


def _box(page: pikepdf.Page, key: str) -> list[float] | None:
    value = page.obj.get(key)  # on the page itself: TrimBox and BleedBox are not inherited
    return [float(v) for v in value] if value is not None else None


def _boxes(document: pikepdf.Pdf) -> Iterator[str]:
    for number, page in enumerate(document.pages, start=1):
        media = [float(v) for v in page.mediabox]
        for key in ("/TrimBox", "/BleedBox"):
            box = _box(page, key)
            if box is None:
                yield f"page {number} has no {key[1:]}"
            elif box[0] < media[0] or box[1] < media[1] or box[2] > media[2] or box[3] > media[3]:
                yield f"page {number}: {key[1:]} {box} outside the MediaBox {media}"


def _output_intent(document: pikepdf.Pdf) -> Iterator[str]:
    intents = [i for i in document.Root.get("/OutputIntents", []) if str(i.get("/S")) == "/GTS_PDFX"]
    if len(intents) != 1:
        yield f"{len(intents)} GTS_PDFX output intents, not one"
        return
    intent = intents[0]
    if "/OutputConditionIdentifier" not in intent:
        yield "output intent lacks OutputConditionIdentifier"
    profile = intent.get("/DestOutputProfile")
    if profile is None:
        yield "output intent has no embedded profile"
        return
    data = profile.read_bytes()
    device_class, space, major = data[12:16], data[16:20], data[8]
    if device_class != b"prtr":
        yield f"output intent profile class {device_class.decode('ascii', 'replace')}, not prtr (output)"
    if space not in (b"CMYK", b"GRAY"):
        yield f"output intent profile colour space {space.decode('ascii', 'replace')}, not CMYK or GRAY"
    if major not in (2, 4):
        yield f"output intent profile version {major}, not 2 or 4"
    if int(profile.get("/N", 0)) != {b"CMYK": 4, b"GRAY": 1}.get(space, -1):
        name = space.decode("ascii", "replace")
        yield f"output intent /N {profile.get('/N')} does not match its {name} profile"


def _embedded(font: Any) -> bool:
    if str(font.get("/Subtype")) == "/Type3":
        return True
    if str(font.get("/Subtype")) == "/Type0":
        font = font.DescendantFonts[0]
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _fonts_and_transparency(document: pikepdf.Pdf) -> Iterator[str]:
    seen: set[tuple[int, int]] = set()
    problems: dict[str, None] = {}  # ordered, once each

    def visit(resources: Any, where: str) -> None:
        if resources is None or (resources.is_indirect and resources.objgen in seen):
            return
        if resources.is_indirect:
            seen.add(resources.objgen)
        for name, font in resources.get("/Font", {}).items():
            if not _embedded(font):
                problems[f"{where}: font {name} ({font.get('/BaseFont')}) is not embedded"] = None
        for name, state in resources.get("/ExtGState", {}).items():
            if str(state.get("/SMask", "/None")) != "/None":
                problems[f"{where}: graphics state {name} has a soft mask"] = None
            if float(state.get("/CA", 1)) < 1 or float(state.get("/ca", 1)) < 1:
                problems[f"{where}: graphics state {name} is translucent"] = None
            if str(state.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
                problems[f"{where}: graphics state {name} has blend mode {state.BM}"] = None
        for name, xobject in resources.get("/XObject", {}).items():
            if "/SMask" in xobject:
                problems[f"{where}: image {name} has a soft mask"] = None
            group = xobject.get("/Group")
            if group is not None and str(group.get("/S")) == "/Transparency":
                problems[f"{where}: form {name} is a transparency group"] = None
            if str(xobject.get("/Subtype")) == "/Form":
                visit(xobject.get("/Resources"), f"{where} form {name}")

    for number, page in enumerate(document.pages, start=1):
        group = page.obj.get("/Group")
        if group is not None and str(group.get("/S")) == "/Transparency":
            problems[f"page {number} is a transparency group"] = None
        visit(page.obj.get("/Resources") or page.resources, f"page {number}")
    yield from problems


def _dparts(document: pikepdf.Pdf) -> Iterator[str]:
    root = document.Root.get("/DPartRoot")
    if root is None:
        yield "no DPartRoot (not PDF/VT)"
        return
    node = root.DPartRootNode
    if node.get("/Parent") is None or node.Parent.objgen != root.objgen:
        yield "the root DPart's /Parent is not the DPartRoot"
    number_of = {page.objgen: number for number, page in enumerate(document.pages, start=1)}
    expected = 1
    for record in (leaf for kids in node.DParts for leaf in kids):
        start, end = number_of.get(record.Start.objgen), number_of.get(record.End.objgen)
        if start is None or end is None:
            yield "a DPart record names a page that is not in the document"
            return
        if start != expected or end < start:
            yield f"DPart records do not run over the pages in order (page {start}, expected {expected})"
            return
        for page_number in range(start, end + 1):
            page = document.pages[page_number - 1].obj
            if page.get("/DPart") is None or page.DPart.objgen != record.objgen:
                yield f"page {page_number} does not name its DPart record"
        expected = end + 1
    if expected != len(document.pages) + 1:
        yield f"DPart records cover {expected - 1} of {len(document.pages)} pages"


def print_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.pdf")) if path.is_dir() else [path]
    # Backgrounds and other inputs are not print files: only what courrier wrote.
    return [p for p in found if p.name != "background.pdf"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    files = print_files(args.paths)
    report = {str(path): preflight(path) for path in files}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for path, problems in report.items():
            for problem in problems:
                print(f"{path}: {problem}")
        failed = sum(1 for problems in report.values() if problems)
        print(f"preflight: {len(files)} print files, {failed} with problems", file=sys.stderr)
    return 1 if any(report.values()) or not files else 0


if __name__ == "__main__":
    sys.exit(main())
