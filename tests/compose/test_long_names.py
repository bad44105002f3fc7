"""Every deliverable letter is printed: the longest names of the synthetic register, in every language,
through every example template, with the address inside the envelope window and never below the
minimum size (read back from the page with ``pdftotext -bbox``, as a reader or the post's scanner sees it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from courrier.compose import compose_job, load_template
from courrier.compose.address import MIN_SIZE_PT
from courrier.compose.template import ENVELOPES
from courrier.specimens import LANGUAGES, longest_names

from ..conftest import made_once
from .conftest import EXAMPLES, record

PER_LANGUAGE = 200  # 1,000 letters per template
RETURN_ADDRESS_MM = 10  # the small sender line sits in the window's top 10 mm


@pytest.fixture(scope="module")
def long_names(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    # Drawn from a 60,000-person register (seconds): once per run, not once per xdist worker.
    records = made_once(tmp_path_factory, "longest-names", lambda: longest_names(PER_LANGUAGE))
    # The first letter is a short name at full size: it calibrates a word's height to its font size.
    return [record(0, "Muller", "Anna"), *records]


@pytest.mark.parametrize("template", ["vaccination", "mass-testing", "voucher"])
def test_the_longest_names_are_all_printed_inside_the_window(
    pdf_tools, tmp_path: Path, template: str, long_names: list[dict[str, Any]]
):
    assert len(long_names) == 1 + PER_LANGUAGE * len(LANGUAGES)
    assert {r["person"]["language"] for r in long_names} == set(LANGUAGES)
    loaded = load_template(EXAMPLES / template)
    pdf = tmp_path / "job.pdf"
    result = compose_job(loaded, long_names, pdf)
    assert result.failures == []  # no letter refused
    window = ENVELOPES["C5_DIN5008_B"]
    size = next(e.size for page in loaded.pages for e in page if e.kind == "address")
    by_page: dict[int, list[Any]] = {}
    # The piece's reference sits in the window's remark zone, under the return address.
    references = {page: item["piece_ref"] for page, item in enumerate(long_names, start=1)}
    read = pdf_tools.without_output_intent(pdf)
    assert pdf_tools.words(read, last_page=20) == pdf_tools.words(pdf, last_page=20)  # the same words
    for word in pdf_tools.words(read):
        # The address column: the window and the margin around it (where a line too wide would go).
        if word.text == references[word.page]:
            continue
        if 35 < word.y_mm < 100 and word.x_mm < 120 and word.y_mm > window.y + RETURN_ADDRESS_MM - 3:
            by_page.setdefault(word.page, []).append(word)
    full_height = by_page[1][0].height_mm  # "Anna" at the template's address size
    shrunk = 0
    for page, item in enumerate(long_names, start=1):
        words = by_page[page]
        for word in words:
            assert window.x <= word.x_mm, (page, word)
            assert word.right_mm <= window.x + window.width, (page, word)
            assert window.y + RETURN_ADDRESS_MM <= word.y_mm, (page, word)
            assert word.bottom_mm <= window.y + window.height, (page, word)
            assert word.height_mm / full_height * size >= MIN_SIZE_PT - 0.05, (page, word)
        shrunk += any(word.height_mm < full_height - 0.05 for word in words)
        printed = [word.text for word in words]
        # The family name is never abbreviated: every word of it is in the block, whole.
        for part in item["person"]["family_name"].split():
            assert part in printed or any(part.startswith(p.rstrip("-")) for p in printed), (page, part)
        assert len({round(word.y_mm, 1) for word in words}) <= 6
    assert shrunk > 0  # the test reaches the names that had to be fitted
