"""The per-file font subset: the glyphs a file uses, at their ids, drawn exactly as in the full font."""

from __future__ import annotations

import io
import struct
import zlib

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


@pytest.mark.parametrize("count", [1, 40, 3000])
def test_checksums_are_those_of_the_file_written(count):
    """The table checksums and head's checkSumAdjustment are summed from the tables, not from the file:
    they must agree with the file as written."""
    face = load_face("DejaVuSans")
    used = sorted(face.cmap.values())[:: max(1, len(face.cmap) // count)][:count]
    data = subset_truetype(face.data, used)
    font = TTFont(io.BytesIO(data), checkChecksums=2)  # a table whose checksum is wrong raises
    assert all(font[tag] is not None for tag in sorted(font.keys()))  # loaded: checksum checked
    padded = data + b"\0" * (-len(data) % 4)
    assert sum(struct.unpack(f">{len(padded) // 4}L", padded)) & 0xFFFFFFFF == 0xB1B0AFBA


def test_a_face_embeds_each_set_of_glyphs_as_its_own_subset():
    face = load_face("DejaVuSans")

    def used(text):
        return {face.cmap[ord(char)]: char for char in text}

    first = face.embedded(used("Hôtel"))
    assert face.embedded(used("letôH")) is first  # the same glyphs: made once
    other = face.embedded(used("Hotel"))
    assert other.program != first.program
    assert other.base_font != first.base_font
    assert zlib.decompress(first.program) == subset_truetype(face.data, sorted(used("Hôtel")))


@pytest.mark.parametrize("face_name", ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"])
def test_only_the_kept_glyphs_keep_metrics_and_characters(face_name):
    face = load_face(face_name)
    text = TEXT + "𝐀"  # and one beyond the BMP, when the face has it
    used = sorted({face.cmap[ord(char)] for char in text if ord(char) in face.cmap})
    subset = TTFont(io.BytesIO(subset_truetype(face.data, used)))
    full = TTFont(io.BytesIO(face.data))
    order = full.getGlyphOrder()
    kept_gids = {0}
    pending = list(used)
    while pending:  # composites' components (and theirs) are kept too, with their metrics
        gid = pending.pop()
        if gid not in kept_gids:
            kept_gids.add(gid)
            glyph = full["glyf"][order[gid]]
            if glyph.isComposite():
                pending.extend(full.getGlyphID(component.glyphName) for component in glyph.components)
    subset_cmap = {code: subset.getGlyphID(name) for code, name in subset.getBestCmap().items()}
    assert subset_cmap == {
        code: gid
        for code, gid in ((code, full.getGlyphID(name)) for code, name in full.getBestCmap().items())
        if gid in kept_gids
    }
    assert {ord(char) for char in text if ord(char) in face.cmap} <= set(subset_cmap)
    subset_order = subset.getGlyphOrder()
    last_full_record = full["hhea"].numberOfHMetrics - 1
    for gid, name in enumerate(order):
        kept = subset["hmtx"].metrics[subset_order[gid]]
        if gid in kept_gids or gid == last_full_record:
            assert kept == full["hmtx"].metrics[name], name
        elif gid > last_full_record:  # a side bearing alone: the advance is the last full record's
            assert kept == (full["hmtx"].metrics[order[last_full_record]][0], 0), name
        else:
            assert kept == (0, 0), name
    # The licence travels with the font: its Windows names (the Macintosh ones say the same).
    names = {(r.nameID, r.toUnicode()) for r in subset["name"].names}
    assert names == {(r.nameID, r.toUnicode()) for r in full["name"].names if r.platformID == 3}
    assert {0, 13} <= {name_id for name_id, _ in names}
