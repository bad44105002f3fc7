"""Benchmark: the reference letter composed by courrier and by ReportLab Platypus, in the same run.

The reference letter (bench/reference_letter/): one A4 page, letterhead with a small vector logo, sender
line, window address, date, subject, salutation, three paragraphs of about 190 words with the name, the
appointment date in bold and the centre in bold inline, a QR code of a 60-character token at level M with
the code printed under it, signature, footer. Both engines get the same records and the same QR encoder
(zxing-cpp, drawn as a 1-bit image by both: the comparison is of the layout engines); each runs in its
own process pinned to one core, timed by its CPU time (steadier than wall time on a shared machine).
Targets (issue 10, raising issue 3's): >= 3,000 letters/s on one core of a quiet machine, >= 20x Platypus
in the same run, < 1.2 KB a letter; flat memory (< 200 MB for 10,000 letters).

    python bench/compose.py [--letters N] [--json] [--barcodes image|vector]
    python bench/compose.py --example vaccination [--letters N]   # an example template, courrier only
    python bench/compose.py --metadata-cost [--letters N] [--rounds R]

``--metadata-cost`` composes the reference letter in one process, alternately as it is and without its
per-letter PDF/X and PDF/VT objects (TrimBox and BleedBox on each page, the record's DPart), R rounds of
N letters each, and gives the cost of those objects from the fastest round of each (the least disturbed
by the other processes of a shared machine) and from the medians, and the bytes a letter with and without
them. Issue 10's target: under 3%. The file's
one-off metadata (XMP, output intent, DPart root) is the same for 1 letter or 100,000 and left in both.

``--example NAME`` composes ``examples/templates/NAME`` with its ``sample.jsonl`` records, cycled (every
language and sex it has): the letters the per-language layers and forms are measured on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "reference_letter"
EXAMPLES = HERE.parent / "examples" / "templates"
NAMES = [
    ("Anna", "Muller"),
    ("Thị Lan", "Ngô"),
    ("Łukasz", "Kowalski"),
    ("Øystein", "Berg"),
    ("Ayşe", "Ağaoğlu"),
    ("Ζωή", "Παπαδοπούλου"),
    ("Фёдор", "Иванов"),
    ("João", "Gonçalves"),
    ("Marie", "Schmit"),
    ("Luca", "Rossi"),
    ("Sophie", "Dupont"),
    ("Jean", "Weber"),
    ("Carla", "Da Silva"),
    ("Paul", "Hoffmann"),
    ("Léa", "Thill"),
]
CENTRES = [
    "Centre de vaccination Victor Hugo",
    "Hall Victor Hugo, Limpertsberg",
    "Centre Kirchberg",
    "Centre Esch-Belval",
    "Centre Ettelbruck",
]
TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def records(count: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(7)
    start = dt.date(2026, 3, 16)
    for index in range(count):
        given, family = NAMES[index % len(NAMES)]
        code = "".join(rnd.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(14))
        yield {
            "piece_id": str(index + 1),
            "person": {
                "id": index + 1,
                "family_name": f"{family}",
                "given_names": given,
                "language": "fr",
                "care_of": "",
                "house_number": str(index % 120 + 1),
                "street": "rue de la Gare",
                "postcode": f"L-{1000 + index % 8000}",
                "locality": "Luxembourg",
                "country": "LU",
            },
            "code": "-".join(code[i : i + 4] for i in range(0, 14, 4)),
            "qr": "".join(rnd.choice(TOKEN_ALPHABET) for _ in range(60)),
            "letter_date": "2026-03-12",
            "appointment_date": (start + dt.timedelta(days=index % 14)).isoformat(),
            "centre": CENTRES[index % len(CENTRES)],
        }


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def example_records(name: str) -> Any:
    from courrier.production.piece_ids import format_piece_id

    lines = (EXAMPLES / name / "sample.jsonl").read_text("utf-8").splitlines()
    samples = [json.loads(line) for line in lines if line.strip()]

    def make(count: int) -> Iterator[dict[str, Any]]:
        for index in range(count):
            sample = samples[index % len(samples)]
            yield dict(sample, piece_id=str(index + 1), piece_ref=format_piece_id(index + 1))

    return make


def run_courrier(count: int, barcodes: str, example: str = "") -> dict[str, float]:
    from courrier.compose import compose_job, load_template

    template = load_template(EXAMPLES / example if example else TEMPLATE)
    records = example_records(example) if example else globals()["records"]
    compose_job(template, records(50), io.BytesIO())  # load fonts and compile texts outside the timing
    # Records are made as they are consumed, as a job's records stream in, so that peak memory is the
    # composer's own; the time it takes to make them is measured apart and taken off.
    started = time.process_time()
    for _ in records(count):
        pass
    making_records = time.process_time() - started
    with tempfile.TemporaryFile() as out:  # a real file, as a print run writes: memory must stay flat
        started = time.process_time()
        result = compose_job(template, records(count), out, barcodes=barcodes)
        seconds = time.process_time() - started - making_records
    assert result.letters == count, result.failures[:3]
    return {"seconds": seconds, "bytes": result.bytes}


def run_platypus(count: int) -> dict[str, float]:
    from PIL import Image as PILImage
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    from courrier.compose.barcodes import qr_matrix

    fonts = Path(__file__).resolve().parents[1] / "src" / "courrier" / "compose" / "fonts"
    pdfmetrics.registerFont(TTFont("DejaVu", str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Oblique", str(fonts / "DejaVuSans-Oblique.ttf")))
    pdfmetrics.registerFontFamily("DejaVu", normal="DejaVu", bold="DejaVu-Bold", italic="DejaVu-Oblique")
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=10, leading=13, alignment=4, spaceAfter=6)
    small = ParagraphStyle("small", parent=body, fontSize=6.5, leading=8, alignment=0)
    right = ParagraphStyle("right", parent=body, alignment=2)
    text = (TEMPLATE / "text.fr.md").read_text("utf-8").strip().split("\n\n")

    def letterhead(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        for x, colour in ((20, "#c8102e"), (24, "#ffffff"), (28, "#00a3e0")):
            canvas.setFillColor(colour)
            canvas.rect(x * mm, A4[1] - 28 * mm, 3 * mm, 14 * mm, fill=1, stroke=0)
        canvas.setFillColor("#000000")
        canvas.setFont("DejaVu-Bold", 11)
        canvas.drawString(35 * mm, A4[1] - 19 * mm, "Le Gouvernement du Grand-Duché de Luxembourg")
        canvas.setFont("DejaVu", 7)
        canvas.drawCentredString(
            105 * mm, 12 * mm, "Ministère de la Santé · Villa Louvigny · L-2120 Luxembourg"
        )
        canvas.restoreState()

    def story(record: dict[str, Any]) -> list[Any]:
        person = record["person"]
        values = {
            "{{ person.family_name }}": person["family_name"],
            "{{ appointment_date | date }}": record["appointment_date"],
            "{{ centre }}": record["centre"],
        }
        paragraphs = []
        for paragraph in text:
            for placeholder, value in values.items():
                paragraph = paragraph.replace(placeholder, value)
            while "**" in paragraph:
                paragraph = paragraph.replace("**", "<b>", 1).replace("**", "</b>", 1)
            paragraphs.append(Paragraph(paragraph, body))
        # The QR code as a 1-bit image, as courrier draws it (a Drawing with one Rect per module is
        # 3.5 times slower: that would flatter the ratio).
        png = io.BytesIO()
        PILImage.fromarray(~qr_matrix(record["qr"], "M")).convert("1").save(png, "PNG")
        png.seek(0)
        drawing = Image(png, 26 * mm, 26 * mm)
        address = "<br/>".join(
            [
                f"{person['given_names']} {person['family_name']}",
                f"{person['house_number']}, {person['street']}",
                f"{person['postcode']} {person['locality']}",
            ]
        )
        return [
            Spacer(1, 20 * mm),
            Paragraph("Ministère de la Santé · L-2935 Luxembourg", small),
            Paragraph(address, body),
            Spacer(1, 12 * mm),
            Paragraph(f"Luxembourg, le {record['letter_date']}", right),
            Paragraph("<b>Objet : votre invitation à la vaccination contre la COVID-19</b>", body),
            *paragraphs,
            Table([[drawing, Paragraph("Le Directeur de la santé<br/><i>Dr Jean Schmit</i>", body)]]),
            Paragraph(f"Code : <b>{record['code']}</b>", body),
            PageBreak(),
        ]

    prepared = list(records(count))
    out = io.BytesIO()
    started = time.process_time()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=20 * mm)
    flowables = [flowable for record in prepared for flowable in story(record)]
    document.build(flowables, onFirstPage=letterhead, onLaterPages=letterhead)
    return {"seconds": time.process_time() - started, "bytes": len(out.getvalue())}


def _bare_letter_objects(
    self: Any, first: int, pages: list[bytes], piece_id: str
) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """A letter's objects without the boxes and the DPart: what the file would cost without PDF/X-VT."""
    streams = []
    objects = []
    for number_in_letter, operators in enumerate(pages):
        contents = first + 2 * number_in_letter
        streams.append((contents, self.writer.content_stream(operators)))
        objects.append(
            (
                contents + 1,
                b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>" % (self.pages_root.number, contents),
            )
        )
    return streams, objects


def metadata_cost(count: int, rounds: int) -> dict[str, float]:
    from courrier.compose import compose_job, job, load_template

    _pin_to_one_core()
    template = load_template(TEMPLATE)
    prepared = list(records(count))
    compose_job(template, prepared[:50], io.BytesIO())
    full = job._Composer._letter_objects
    seconds: dict[str, list[float]] = {"full": [], "bare": []}
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for mode in ("full", "bare"):
            job._Composer._letter_objects = full if mode == "full" else _bare_letter_objects  # type: ignore[method-assign]
            with tempfile.TemporaryFile() as out:
                started = time.process_time()
                compose_job(template, prepared, out)
                seconds[mode].append(time.process_time() - started)
                sizes[mode] = out.tell()
    job._Composer._letter_objects = full  # type: ignore[method-assign]
    best = {mode: min(values) for mode, values in seconds.items()}
    median = {mode: sorted(values)[len(values) // 2] for mode, values in seconds.items()}
    return {
        "letters_per_s_with": round(count / best["full"]),
        "letters_per_s_without": round(count / best["bare"]),
        "cost_percent_fastest": round((best["full"] / best["bare"] - 1) * 100, 2),
        "cost_percent_median": round((median["full"] / median["bare"] - 1) * 100, 2),
        "bytes_per_letter_with": round(sizes["full"] / count),
        "bytes_per_letter_without": round(sizes["bare"] / count),
        "bytes_cost_percent": round((sizes["full"] / sizes["bare"] - 1) * 100, 2),
    }


def child(engine: str, count: int, barcodes: str, example: str = "") -> None:
    _pin_to_one_core()
    measured = run_courrier(count, barcodes, example) if engine == "courrier" else run_platypus(count)
    measured["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(measured))


def measure(engine: str, count: int, barcodes: str, example: str = "") -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", engine, "--letters", str(count), "--barcodes", barcodes]
    argv += ["--example", example] if example else []
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{engine} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--letters", type=int, default=10_000, help="letters for courrier (default 10,000)")
    parser.add_argument(
        "--baseline-letters", type=int, default=500, help="letters for Platypus (default 500)"
    )
    parser.add_argument("--barcodes", choices=("image", "vector"), default="image")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--example", default="", help="an example template's name: courrier only")
    parser.add_argument("--metadata-cost", action="store_true", help="the per-letter PDF/X-VT objects' cost")
    parser.add_argument("--rounds", type=int, default=15, help="rounds for --metadata-cost (default 15)")
    parser.add_argument("--child", choices=("courrier", "platypus"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.metadata_cost:
        cost = metadata_cost(min(args.letters, 2_000), args.rounds)
        print(json.dumps(cost, indent=2) if args.json else f"PDF/X-VT per-letter objects: {cost}")
        return
    if args.child:
        count = args.letters if args.child == "courrier" else args.baseline_letters
        child(args.child, count, args.barcodes, args.example)
        return
    if args.example:
        measured = measure("courrier", args.letters, args.barcodes, args.example)
        example = {
            "example": args.example,
            "courrier_letters_per_s": round(args.letters / measured["seconds"]),
            "bytes_per_letter": round(measured["bytes"] / args.letters),
        }
        print(json.dumps(example, indent=2) if args.json else f"{args.example}: {example}")
        return
    ours = measure("courrier", args.letters, args.barcodes)
    # Memory must not grow with the letters: the same job at a tenth of the size, for comparison.
    tenth = measure("courrier", max(args.letters // 10, 100), args.barcodes)
    theirs = measure("platypus", args.baseline_letters, args.barcodes)
    ours_rate = args.letters / ours["seconds"]
    theirs_rate = args.baseline_letters / theirs["seconds"]
    result = {
        "courrier_letters_per_s": round(ours_rate),
        "baseline_letters_per_s": round(theirs_rate, 1),
        "ratio": round(ours_rate / theirs_rate, 1),
        "bytes_per_letter": round(ours["bytes"] / args.letters),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "peak_rss_mb_tenth": round(tenth["peak_rss_mb"], 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"reference letter, one core, QR as {args.barcodes}")
    print(
        f"  courrier  {args.letters:>6} letters  {result['courrier_letters_per_s']:>7} letters/s"
        f"  {result['bytes_per_letter']} B/letter  peak {result['peak_rss_mb']} MB"
        f" ({result['peak_rss_mb_tenth']} MB for {max(args.letters // 10, 100)} letters)"
    )
    print(
        f"  Platypus  {args.baseline_letters:>6} letters  {result['baseline_letters_per_s']:>7} letters/s"
        f"  {theirs['bytes'] / args.baseline_letters:.0f} B/letter  peak {theirs['peak_rss_mb']:.1f} MB"
    )
    print(f"  ratio {result['ratio']}x (targets: >= 3,000 letters/s quiet, >= 20x, < 1,200 B/letter)")


if __name__ == "__main__":
    main()
