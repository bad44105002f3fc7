"""A hostile template folder or hostile register data: refused, or printed as plain text.

The payloads are the ones probed on the plain Jinja environment (issue 18) and the Jinja sandbox's own
published escapes: str.format (CVE-2016-10745), str.format_map (CVE-2019-10906), a stored reference to
a format method (CVE-2024-56326, GHSA-q2x7-8rv6-6q7h), the ``|attr`` filter reaching ``format``
(CVE-2025-27516, GHSA-cpwx-vrp4-4pq7), template names used as format strings (GHSA-gmj6-6f8f-6699).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from courrier.campaigns.store import template_hash
from courrier.cli import courrier
from courrier.compose import compose_job, load_template
from courrier.compose.check import check_template
from courrier.errors import TemplateError

from .conftest import EXAMPLES, record

# Refused when the template is loaded: what they reach for is visible in the text.
STATIC_ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.environ.COURRIER_KEY_FILE }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ person.__class__.__base__.__subclasses__() }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__self__ }}",
    "{{ namespace }}",
    "{{ joiner() }}",
    "{{ person['__class__'] }}",
    # CVE-2025-27516: |attr handing out str.format itself.
    "{{ '{0.__class__.__init__.__globals__}'|attr('format')(person) }}",
    "{{ person|attr('__class__') }}",
    "{{ person|map(attribute='__class__')|list }}",
    "{{ person|tojson }}",
    # GHSA-gmj6-6f8f-6699: a template name as a format string; there is no template to include at all.
    "{% include '{0.__class__}' %}",
    "{% include '/etc/passwd' %}",
    "{% import 'x' as y %}",
]
# Only visible when the letter is rendered: the sandbox refuses them then, and the letter fails.
RUNTIME_ESCAPES = [
    "{{ person['__cla' ~ 'ss__'] }}",
    # CVE-2016-10745 and CVE-2019-10906: field lookups inside str.format / str.format_map.
    "{{ '{0.__class__.__init__.__globals__}'.format(person) }}",
    "{{ '{p.__class__}'.format_map({'p': person}) }}",
    # CVE-2024-56326: a stored reference to a string's format method, called later.
    "{% set f = '{0.__class__.__mro__}'.format %}{{ f(person) }}",
    # Immutable: a letter cannot change its record (nor anything else).
    "{{ person.update({'family_name': 'x'}) }}",
    "{{ person.clear() }}",
    # Nor take the worker's memory.
    "{{ 'x' * 100000000 }}",
    "{{ 2 ** 100000000 }}",
    "{{ ((9 ** 64) ** 64) ** 64 }}",
]


def _template(folder: Path, body: str) -> Path:
    shutil.copytree(EXAMPLES / "vaccination", folder)
    (folder / "text.fr.md").write_text(body, encoding="utf-8")
    return folder


@pytest.mark.parametrize("payload", STATIC_ESCAPES)
def test_a_template_that_reaches_out_of_the_sandbox_is_refused(tmp_path: Path, payload: str):
    folder = _template(tmp_path / "t", f"Bonjour {payload}")
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code == "template_unsafe"
    assert "\n" not in str(caught.value)
    # template check names it instead of "no problems".
    result = CliRunner().invoke(courrier, ["template", "check", str(folder)])
    assert result.exit_code == 1
    assert "[template_unsafe]" in result.output
    assert "uid=" not in result.output


@pytest.mark.parametrize("payload", RUNTIME_ESCAPES)
def test_a_letter_whose_text_escapes_at_render_fails_as_unsafe(tmp_path: Path, payload: str):
    template = load_template(_template(tmp_path / "t", f"Bonjour {payload}"))
    letter = record(1, "Schmit")
    before = repr(letter)
    result = compose_job(template, [letter], io.BytesIO())
    assert [piece.error_code for piece in result.pieces] == ["template_unsafe"]
    assert repr(letter) == before  # the record is untouched


def test_register_data_is_printed_as_written_never_as_markup_or_template(pdf_tools, tmp_path: Path):
    template = load_template(
        _template(tmp_path / "t", "Madame {{ person.family_name }},\n\nVotre code : **{{ code }}**.")
    )
    hostile = "x **Gras** *it*"
    letters = [
        record(1, hostile),
        record(2, "{{ 7*7 }} {% if 1 %}y{% endif %}"),
        record(3, "- liste\n\n## titre"),
    ]
    out = tmp_path / "letters.pdf"
    result = compose_job(template, letters, out)
    assert result.letters == 3, result.failures
    pdf_tools.check(out)
    text = pdf_tools.text(out)
    assert text.count(hostile) == 2  # in the window and in the body, stars and all
    assert "{{ 7*7 }} {% if 1 %}y{% endif %}" in text
    assert "- liste ## titre" in text
    assert "\u2022" not in text  # no bullet was made of a name
    # The template's own markup still works: the code is bold, and no star of it is printed.
    assert "**7KQ3" not in text


def test_a_barcode_carries_the_data_as_it_is(pdf_tools, tmp_path: Path):
    template = load_template(_template(tmp_path / "t", "Bonjour"))
    letter = record(1, "Schmit")
    letter["qr"] = "-*#https://rdv.example.lu/c/AB*CD"
    out = tmp_path / "qr.pdf"
    compose_job(template, [letter], out)
    assert pdf_tools.barcodes(out, 1)["QRCode"] == "-*#https://rdv.example.lu/c/AB*CD"


# --- files a template names ---


def _with_image(folder: Path, file: str) -> None:
    manifest = folder / "template.toml"
    manifest.write_text(
        manifest.read_text("utf-8")
        + f'\n[[pages.elements]]\ntype = "image"\nname = "logo"\nx = 150\ny = 10\nwidth = 30\n'
        f"height = 15\nfile = '{file}'\n",
        encoding="utf-8",
    )


def _with_font(folder: Path, file: str) -> None:
    manifest = folder / "template.toml"
    manifest.write_text(manifest.read_text("utf-8") + f"\n[fonts]\nregular = '{file}'\n")


def _png(width: int, height: int, body: bytes | None = None) -> bytes:
    """A grayscale PNG; its IDAT is ``body`` if given (a bomb declares a huge size and holds little)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = body if body is not None else b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("name", ["../../x.png", "/etc/hostname", "sub/../../x.png", "..\\x.png"])
def test_an_image_outside_the_template_folder_is_refused(tmp_path: Path, name: str):
    (tmp_path / "x.png").write_bytes(_png(4, 4))
    folder = _template(tmp_path / "a" / "t", "Bonjour")
    _with_image(folder, name)
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code == "asset_outside_template"


def test_a_symlink_out_of_the_folder_is_refused_for_every_kind_of_file(tmp_path: Path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.png").write_bytes(_png(4, 4))
    (outside / "strings.toml").write_text('key = "secret"\n')
    for kind in ("image", "font", "background", "strings", "text"):
        folder = _template(tmp_path / kind, "Bonjour")
        if kind == "image":
            (folder / "logo.png").symlink_to(outside / "x.png")
            _with_image(folder, "logo.png")
        elif kind == "font":
            (folder / "font.ttf").symlink_to("/usr/share/fonts")
            _with_font(folder, "font.ttf")
        elif kind == "background":
            (folder / "background.pdf").symlink_to(outside / "x.png")
        elif kind == "strings":
            (folder / "strings.fr.toml").unlink()
            (folder / "strings.fr.toml").symlink_to(outside / "strings.toml")
        else:
            (folder / "text.fr.md").unlink()
            (folder / "text.fr.md").symlink_to("/etc/hostname")
        with pytest.raises(TemplateError) as caught:
            load_template(folder)
        assert caught.value.code == "asset_outside_template", kind


def test_a_text_source_outside_the_folder_is_refused(tmp_path: Path):
    folder = _template(tmp_path / "t", "Bonjour")
    manifest = folder / "template.toml"
    manifest.write_text(manifest.read_text("utf-8").replace('source = "text"', 'source = "../../etc/x"'))
    if 'source = "../../etc/x"' not in manifest.read_text("utf-8"):
        manifest.write_text(
            manifest.read_text("utf-8")
            + '\n[[pages.elements]]\ntype = "flow"\nname = "evil"\nx = 20\ny = 200\nwidth = 100\n'
            'height = 20\nsource = "../../etc/x"\n'
        )
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code == "asset_outside_template"


@pytest.mark.parametrize("font", ["/etc/passwd", "../x.ttf", "NoSuchFont"])
def test_a_font_that_is_neither_bundled_nor_in_the_folder_is_refused(tmp_path: Path, font: str):
    folder = _template(tmp_path / "t", "Bonjour")
    _with_font(folder, font)
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code in ("asset_outside_template", "bad_font")


def _dejavu() -> bytes:
    from importlib import resources

    return resources.files("courrier.compose").joinpath("fonts", "DejaVuSans.ttf").read_bytes()


BAD_FILES = {
    "passwd as a font": ("font", b"root:x:0:0:root:/root:/bin/bash\n", "bad_font"),
    "truncated font": ("font", _dejavu()[:60_000], "bad_font"),
    "empty font": ("font", b"", "bad_font"),
    "bomb png": ("image", _png(30_000, 30_000, zlib.compress(b"\0" * 1000)), "image_too_large"),
    "truncated png": ("image", _png(40, 40)[:60], "bad_image"),
    "text as png": ("image", b"not an image", "bad_image"),
    "malformed background": ("background", b"%PDF-1.7\n1 0 obj <<\n", "bad_background"),
    "empty background": ("background", b"", "bad_background"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_one_template_error_naming_it(tmp_path: Path, case: str):
    kind, content, code = BAD_FILES[case]
    folder = _template(tmp_path / "t", "Bonjour")
    name = {"font": "font.ttf", "image": "logo.png", "background": "background.pdf"}[kind]
    (folder / name).write_bytes(content)
    if kind == "font":
        _with_font(folder, name)
    elif kind == "image":
        _with_image(folder, name)
    with pytest.raises(TemplateError) as caught:
        load_template(folder)
    assert caught.value.code == code
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)
    result = CliRunner().invoke(courrier, ["template", "check", str(folder)])
    assert result.exit_code == 1, result.output
    assert f"[{code}]" in result.output
    assert "Traceback" not in result.output


def test_template_check_reports_every_bad_file_at_once(tmp_path: Path):
    folder = _template(tmp_path / "t", "Bonjour {{ ''.__class__ }}")
    (folder / "logo.png").write_bytes(b"not an image")
    (folder / "background.pdf").write_bytes(b"")
    _with_image(folder, "logo.png")
    found = {problem.code for problem in check_template(load_template(folder, verify=False))}
    assert {"template_unsafe", "bad_image", "bad_background"} <= found


def test_every_file_a_letter_uses_is_in_the_version_hash(tmp_path: Path):
    folder = _template(tmp_path / "t", "Bonjour")
    (folder / "logo.png").write_bytes(_png(4, 4))
    _with_image(folder, "logo.png")
    assert load_template(folder).path == folder
    before = template_hash(folder)
    (folder / "logo.png").write_bytes(_png(4, 5))
    assert template_hash(folder) != before


def test_a_good_image_and_a_template_font_are_used(pdf_tools, tmp_path: Path):
    folder = _template(tmp_path / "t", "Bonjour")
    (folder / "logo.png").write_bytes(_png(40, 20))
    (folder / "font.ttf").write_bytes(_dejavu())
    _with_image(folder, "logo.png")
    _with_font(folder, "font.ttf")
    out = tmp_path / "ok.pdf"
    assert compose_job(load_template(folder), [record(1, "Schmit")], out).letters == 1
    pdf_tools.check(out)
    assert os.path.getsize(out) > 0
