"""The docs' page of longest names: the vaccination letter for the longest name of the synthetic register
in each language, cropped to the window and the salutation, as docs/images/long-name-<lang>.png; and
the table of those names and how the address block fitted them, for docs/templates.md.

    python scripts/long_names_page.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from courrier.specimens import LANGUAGES, longest_names
from PIL import Image

from courrier.compose import compose_job, load_template
from courrier.compose.address import fit_address
from courrier.compose.fonts import FileFont, load_face
from courrier.compose.layout import Typesetter
from courrier.compose.template import MM

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def main() -> None:
    template = load_template(ROOT / "examples" / "templates" / "vaccination")
    records = longest_names(1)
    font = FileFont(load_face(template.fonts["regular"]), "F0", None)  # type: ignore[arg-type]

    def measure(text: str, size: float) -> float:
        return Typesetter({"regular": font}, size, size, 1e6, "fr", "address").single_line(text)[1]

    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "long-names.pdf"
        compose_job(template, records, pdf)
        subprocess.run(
            ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pnggray", "-r110",
             f"-sOutputFile={folder}/page-%d.png", str(pdf)],
            check=True,
        )  # fmt: skip
        print("| language | name in the register | printed in the window |")
        print("|---|---|---|")
        for number, (language, item) in enumerate(zip(LANGUAGES, records, strict=True), start=1):
            page = Image.open(f"{folder}/page-{number}.png")
            width, height = page.size
            page.crop((0, int(height * 0.13), width, int(height * 0.50))).save(
                IMAGES / f"long-name-{language}.png", optimize=True
            )
            person = item["person"]
            lines = fit_address(person, measure, (template.window.width - 8) * MM, 10.0)
            printed = " / ".join(f"{line.text} ({line.size:g} pt)" for line in lines[:2] if line.size < 10)
            name = f"{person['given_names']} {person['family_name']}"
            print(f"| {language} | {name} | {printed or 'as is, 10 pt'} |")


if __name__ == "__main__":
    main()
