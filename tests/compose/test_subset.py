"""The per-file font subset: the glyphs a file uses, at their ids, drawn exactly as in the full font."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont

from courrier.compose.fonts import load_face
from courrier.compose.subset import subset_truetype

TEXT = "Ngô Łukasz Øystein Ağaoğlu Ζωή Фёдор Thị Lan ẫ é « 1 234,50 € »\xa0"


@pytest.mark.parametrize("face_name", ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"])
def test_used_glyphs_keep_their_ids_outlines_and_widths(face_name):
    face = load_face(face_name)
    used = sorted({face.cmap[ord(char)] for char in TEXT})
    subset = TTFont(io.BytesIO(subset_truetype(face.data, used)))
    full = TTFont(io.BytesIO(face.data))
    full_order, subset_order = full.getGlyphOrder(), subset.getGlyphOrder()
    assert len(subset_order) == len(full_order)  # ids unchanged: text already written stays valid
    composites = 0
    for gid in used:
        original, kept = full["glyf"][full_order[gid]], subset["glyf"][subset_order[gid]]
        composites += original.isComposite()
        assert list(kept.getCoordinates(subset["glyf"])[0]) == list(
            original.getCoordinates(full["glyf"])[0]
        ), full_order[gid]
        assert subset["hmtx"][subset_order[gid]][0] == full["hmtx"][full_order[gid]][0]
    assert composites  # accented letters are composites: their components came along
    unused = next(gid for gid in range(1, len(full_order)) if gid not in used and gid > max(used) // 2)
    assert subset["glyf"][subset_order[unused]].numberOfContours == 0
    assert len(subset_truetype(face.data, used)) < len(face.data) / 4
    assert subset_truetype(face.data, used) == subset_truetype(face.data, reversed(used))
