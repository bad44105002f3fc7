"""`courrier template check` and `render`, the address block and the language formats."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pikepdf
import pytest
import zxingcpp
from click.testing import CliRunner

from courrier.cli import courrier
from courrier.compose import load_template
from courrier.compose.check import check_template
from courrier.compose.formats import format_date, format_number, format_phone
from courrier.compose.salutation import salutation
from courrier.compose.template import typographic_spaces
from courrier.errors import CompositionError, TemplateError
from courrier.production.profiles import load_inserter

from .conftest import EXAMPLES, person, record


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(courrier, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["vaccination", "mass-testing", "voucher"])
def test_the_examples_check_clean(name):
    assert check_template(load_template(EXAMPLES / name)) == []


def test_check_finds_what_is_wrong(tmp_path: Path):
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLES / "vaccination", folder)
    manifest = folder / "template.toml"
    manifest.write_text(
        manifest.read_text("utf-8")
        + '\n[[pages.elements]]\ntype = "text"\nname = "stray"\nx = 30\ny = 60\n'
        + 'text = "{{ appointment.centre }}"\n'
        + '\n[[pages.elements]]\ntype = "rect"\nname = "off the page"\nx = 200\ny = 290\n'
        + "width = 30\nheight = 20\nfill = 0.5\n",
        encoding="utf-8",
    )
    (folder / "text.fr.md").write_text("Bonjour {{ voucher }} 漢", encoding="utf-8")
    (folder / "text.de.md").write_text(
        "Hallo {{ person.given_name }} {{ person['family_name'] }}, {{ t.greeting }}", encoding="utf-8"
    )
    found = check_template(load_template(folder))
    problems = {(p.code, p.where) for p in found}
    assert ("unknown_placeholder", "stray") in problems
    assert ("unknown_placeholder", "text.fr.md") in problems
    # A typo in a register field, and a string no strings.<language>.toml defines.
    assert [p.message.split(" is ")[0] for p in found if p.where == "text.de.md"] == [
        "{{ person.given_name }}",
        "{{ t.greeting }}",
    ]
    assert ("missing_string", "text.de.md") in problems
    assert ("in_window", "stray") in problems
    assert ("outside_page", "off the page") in problems
    assert ("missing_glyph", "text.fr.md") in problems
    code, out = run("template", "check", str(folder))
    assert code == 1
    assert "[in_window]" in out


def test_a_folder_that_is_no_template_is_refused(tmp_path: Path):
    with pytest.raises(TemplateError) as caught:
        load_template(tmp_path)
    assert caught.value.code == "template_not_found"


def test_render_from_csv_with_dotted_columns_and_png(pdf_tools, tmp_path: Path):
    # The output's folder need not exist yet.
    records = tmp_path / "records.csv"
    records.write_text(
        "piece_id;piece_ref;person.family_name;person.given_names;person.language;person.street;person.house_number;"
        "person.postcode;person.locality;person.country;code;qr;letter_date;valid_from;valid_until\n"
        "1;1-3;Ağaoğlu;Ayşe;en;rue Neuve;4;L-4001;Esch-sur-Alzette;LU;7KQ3-MZ8P-TXV4-H9;https://rdv.example.lu/c/1;"
        "2026-03-12;2026-03-12;2026-03-26\n",
        encoding="utf-8",
    )
    code, out = run(
        "template",
        "render",
        str(EXAMPLES / "vaccination"),
        "--records",
        str(records),
        "-o",
        str(tmp_path / "previews" / "out.pdf"),
        "--png",
        str(tmp_path / "png"),
        "--json",
    )
    assert code == 0, out
    summary = json.loads(out)
    assert summary["letters"] == 1
    assert Path(summary["png"][0]).exists()
    assert "Ayşe Ağaoğlu" in pdf_tools.text(tmp_path / "previews" / "out.pdf")
    assert "26 March 2026" in pdf_tools.text(tmp_path / "previews" / "out.pdf")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "12 mars 2026"), ("de", "12. März 2026"), ("en", "12 March 2026"), ("pt", "12 de março de 2026")],
)
def test_dates_in_the_letters_language(language, expected):
    assert format_date("2026-03-12", language) == expected


def test_french_texts_never_start_a_line_with_a_colon():
    source = "Apportez :\n- cette lettre ;\n« {{ t.subject }} » ? {{ a if b else c }} {% if x %}!{% endif %}"
    assert typographic_spaces(source, "fr") == (
        "Apportez\xa0:\n- cette lettre\xa0;\n«\xa0{{ t.subject }}\xa0»\xa0? "
        "{{ a if b else c }} {% if x %}!{% endif %}"
    )
    assert typographic_spaces("Code :", "de") == "Code :"
    template = load_template(EXAMPLES / "vaccination")
    assert "apportez\xa0:" in template.texts["text"]["fr"]
    assert template.strings["fr"]["qr_label"].endswith("code\xa0:")


def test_check_with_records_finds_the_letters_that_would_fail(tmp_path: Path):
    records = tmp_path / "records.jsonl"
    fits = record(1, "Schmit", "Marie", language="fr")
    too_long = record(2, "Schmit", "Marie " * 40, language="fr")
    records.write_text("\n".join(json.dumps(r) for r in (fits, too_long)) + "\n", encoding="utf-8")
    code, out = run("template", "check", str(EXAMPLES / "vaccination"), "--records", str(records), "--json")
    assert code == 1
    (problem,) = json.loads(out)
    assert problem["where"] == "records.jsonl, piece 2"
    assert problem["code"] == "address_too_long"  # 40 initials do not fit either


def test_render_prints_as_the_configured_printer_and_inserter_do(pdf_tools, tmp_path: Path, monkeypatch):
    """A mono printer and an inserter reading an 18-character mark: the preview shows that mark, where
    that inserter reads it, and has the gray output intent."""
    profiles = EXAMPLES.parent / "profiles"
    monkeypatch.setenv("COURRIER_PRINTER_PROFILE", str(profiles / "mono-printer.toml"))
    monkeypatch.setenv("COURRIER_INSERTER_PROFILE", str(profiles / "dl-inserter-18.toml"))
    folder = EXAMPLES / "vaccination"
    pdf = tmp_path / "preview.pdf"
    code, out = run(
        "template", "render", str(folder), "--records", str(folder / "sample.jsonl"), "-o", str(pdf)
    )
    assert code == 0, out
    layout = load_inserter(profiles / "dl-inserter-18.toml").mark
    marks = [
        code.text
        for code in zxingcpp.read_barcodes(pdf_tools.render(pdf, 2, 200))
        if code.format.name == "DataMatrix" and code.text != "2-1"  # the other: the piece's reference
    ]
    assert marks == [layout.text("J000000", 2, 1, 1)]
    with pikepdf.open(pdf) as document:
        assert int(document.Root.OutputIntents[0].DestOutputProfile.N) == 1


@pytest.mark.parametrize("name", ["vaccination", "mass-testing", "voucher"])
def test_each_example_renders_its_own_samples(name):
    folder = EXAMPLES / name
    code, out = run("template", "check", str(folder), "--records", str(folder / "sample.jsonl"))
    assert code == 0, out


def test_french_writes_the_first_of_the_month_1er():
    assert format_date("2026-02-01", "fr") == "1er février 2026"
    assert format_date("2026-02-01", "fr", "full") == "dimanche 1er février 2026"
    assert format_date("2026-02-11", "fr") == "11 février 2026"


def test_phone_numbers_carry_the_country_code_abroad():
    assert format_phone("+352 247 65533", "LU") == "24\xa076\xa055\xa033"
    for country in ("FR", "BE", "DE"):
        assert format_phone("+352 247 65533", country) == "+352\xa024\xa076\xa055\xa033"
    with pytest.raises(CompositionError) as caught:
        format_phone("+352 1", "LU")
    assert caught.value.code == "bad_phone_number"


def test_numbers_follow_the_language_and_the_destination():
    assert format_number(1234.5, "de", "LU") == "1.234,5"
    assert format_number(1234.5, "de", "CH") == "1'234.5"
    assert format_number(1234.5, "pt", "FR") == format_number(1234.5, "pt", "PT")  # no pt_FR in CLDR


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
def test_every_sex_is_greeted_in_every_language(language):
    greetings = {
        sex: salutation(person("Schmit", "Alex Marie", sex=sex), language) for sex in ("F", "M", "X", "")
    }
    assert greetings["F"] != greetings["M"]
    # Neither sex nor an unknown one: no gendered form, and the full name.
    assert greetings["X"] == greetings[""]
    assert "Alex Marie Schmit" in greetings["X"]
    for forms in (greetings["X"],):
        assert not any(
            word in forms for word in ("Madame", "Monsieur", "Frau", "Herr", "Sir", "Senhor", "Här")
        )


def test_every_code_in_the_samples_and_the_docs_passes_codes_check():
    root = EXAMPLES.parents[1]
    printed = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{2}\b")
    files = [*EXAMPLES.glob("*/sample.jsonl"), *(root / "docs").glob("*.md"), root / "README.md"]
    found = [code for file in files for code in printed.findall(file.read_text("utf-8"))]
    assert len(found) >= 15
    for code in found:
        code_result, out = run("codes", "check", code)
        assert code_result == 0, (code, out)


def test_a_luxembourgish_reader_gets_german_only_when_the_template_says_so(tmp_path: Path):
    folder = tmp_path / "vaccination"
    shutil.copytree(EXAMPLES / "vaccination", folder)
    for file in folder.glob("*.lb.*"):
        file.unlink()
    manifest = folder / "template.toml"
    source = manifest.read_text("utf-8").replace('"pt", "lb"]', '"pt"]')
    manifest.write_text(source, "utf-8")
    found = {(p.code, p.severity) for p in check_template(load_template(folder))}
    assert ("no_text_for_language", "error") in found  # lb readers would silently get French
    manifest.write_text(
        source.replace('fallback = { default = "fr" }', 'fallback = { lb = "de", default = "fr" }')
    )
    problems = check_template(load_template(folder))
    assert [(p.code, p.severity) for p in problems] == [("language_fallback", "note")]
    code, out = run("template", "check", str(folder))
    assert code == 0
    assert "lb readers get the de letter" in out
