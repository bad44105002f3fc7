"""Printer and inserter profiles: what a print shop configures once, checked when it is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from courrier.production.job_files import default_setting
from courrier.production.profiles import (
    ProfileError,
    check_mark_placement,
    load_inserter,
    load_printer,
)

PROFILES = Path(__file__).resolve().parents[2] / "examples" / "profiles"
A4 = (210.0, 297.0)
WINDOW = (20.0, 45.0, 85.0, 45.0)


@pytest.mark.parametrize("name", ["c5-inserter", "dl-inserter-18"])
def test_example_inserters_load_and_place_their_mark_clear(name):
    inserter = load_inserter(PROFILES / f"{name}.toml")
    check_mark_placement(inserter, 12.0, A4, WINDOW)


@pytest.mark.parametrize("name", ["colour-press", "mono-printer"])
def test_example_printers_load(name):
    assert load_printer(PROFILES / f"{name}.toml").colour in ("cmyk", "gray")


def test_a_duplex_template_is_printed_duplex_unless_the_printer_says_otherwise():
    assert default_setting(template_duplex=True).duplex
    assert not default_setting(template_duplex=False).duplex
    mono = load_printer(PROFILES / "mono-printer.toml")
    assert mono.duplex(template_duplex=False)


def _inserter(tmp_path: Path, **mark: object) -> Path:
    values = {
        "layout": '"C1|{job}|{sequence:06d}|{sheet}/{sheets}|{end}"',
        "x_mm": 8,
        "y_mm": 250,
        "module_mm": 0.5,
    }
    values.update({key: f'"{value}"' if isinstance(value, str) else value for key, value in mark.items()})
    text = (PROFILES / "c5-inserter.toml").read_text("utf-8").split("[mark]")[0] + "[mark]\n"
    text += "".join(f"{key} = {value}\n" for key, value in values.items())
    path = tmp_path / "inserter.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "mark",
    [
        {"module_mm": 0.44},  # the old mark: too small for an inserter's camera
        {"layout": "{job}|{piece_name}"},  # a field the composer does not know
        {"layout": "{job}{sequence:06d}", "length": 18},  # not the length the inserter reads
        {"layout": "{sequence:Z}"},  # not a format spec
    ],
)
def test_a_profile_the_inserter_could_not_use_is_refused(tmp_path: Path, mark):
    with pytest.raises(ProfileError) as caught:
        load_inserter(_inserter(tmp_path, **mark))
    assert caught.value.code == "bad_profile"


@pytest.mark.parametrize(
    ("x_mm", "y_mm", "fold"),
    [
        (6, 250, "half"),
        (8, 287, "half"),
        (30, 60, "half"),
        (8, 143, "half"),
        (8, 195, "letter"),
        (8, 93, "letter"),
    ],
)
def test_a_mark_on_an_edge_in_the_window_or_across_a_fold_is_refused(tmp_path: Path, x_mm, y_mm, fold):
    path = _inserter(tmp_path, x_mm=x_mm, y_mm=y_mm)
    path.write_text(path.read_text("utf-8").replace('fold = "half"', f'fold = "{fold}"'), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        check_mark_placement(load_inserter(path), 10.0, A4, WINDOW)
    assert caught.value.code == "mark_misplaced"


def test_a_missing_profile_file_is_one_line(tmp_path: Path):
    with pytest.raises(ProfileError) as caught:
        load_printer(tmp_path / "nowhere.toml")
    assert caught.value.code == "bad_profile"
