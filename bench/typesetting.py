"""Benchmark of the justified body's typesetting: hyphenated line ends and the loosest word spacing.

Composes every example template for letters drawn from the synthetic register (all languages, every
recorded sex, residents and cross-border workers), reads the printed words back with their positions
(``pdftotext -bbox``, as a reader sees the page) and reports, over the lines of each template's ``body``:
the lines, those ending with a hyphen, and the word spacing of justified lines as a ratio to the
font's normal space (1.0: unstretched), worst and 99th percentile. Issue 10 asked for this before and
after hyphenation and a limit on word spacing.

    python bench/typesetting.py [--letters N] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import tempfile
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

from courrier.compose import compose_job, load_template
from courrier.specimens import record_for, register_people

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "templates"
MM = 72 / 25.4
SPACE_EM = 651 / 2048  # DejaVu Sans's space
_WORD = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>')


def measure(template_name: str, letters: int) -> dict[str, Any]:
    template = load_template(EXAMPLES / template_name)
    body = next(element for page in template.pages for element in page if element.name == "body")
    rnd = random.Random(3)
    records = [record_for(person, n, rnd) for n, person in enumerate(register_people(letters), start=1)]
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "job.pdf"
        result = compose_job(template, records, pdf)
        html = subprocess.run(
            ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    left, right = body.x * MM, (body.x + body.width) * MM
    top, bottom = body.y * MM, (body.y + body.height) * MM
    lines: dict[tuple[int, float], list[tuple[float, float, str]]] = defaultdict(list)
    page = 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        match = _WORD.search(line)
        if match:
            x, y, x_max = (float(match.group(n)) for n in (1, 2, 3))
            if left - 1 <= x and x_max <= right + 1 and top <= y <= bottom:
                lines[(page, round(y, 0))].append((x, x_max, match.group(4)))
    space = SPACE_EM * body.size
    ratios = []
    hyphenated = 0
    for words in lines.values():
        words.sort()
        if words[-1][2].endswith("-") and len(words[-1][2]) > 1:
            hyphenated += 1
        flush = words[-1][1] >= right - 0.5
        if flush and len(words) > 1:
            gaps = [after[0] - before[1] for before, after in pairwise(words)]
            ratios.append(max(gaps) / space)
    ratios.sort()
    return {
        "template": template_name,
        "letters": result.letters,
        "lines": len(lines),
        "hyphenated_lines": hyphenated,
        "justified_lines": len(ratios),
        "worst_space_ratio": round(ratios[-1], 2) if ratios else 0.0,
        "p99_space_ratio": round(ratios[int(len(ratios) * 0.99)], 2) if ratios else 0.0,
        "lines_above_1.5": sum(1 for ratio in ratios if ratio > 1.5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [measure(name, args.letters) for name in ("vaccination", "mass-testing", "voucher")]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for row in results:
        print(
            f"{row['template']:<13} {row['letters']:>5} letters {row['lines']:>6} lines"
            f" {row['hyphenated_lines']:>5} hyphenated  spacing worst {row['worst_space_ratio']:.2f}"
            f" p99 {row['p99_space_ratio']:.2f}  >1.5: {row['lines_above_1.5']}"
        )


if __name__ == "__main__":
    main()
