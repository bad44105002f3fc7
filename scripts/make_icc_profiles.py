"""Build the two print-condition profiles courrier embeds as output intents (run once; the results are
committed in ``src/courrier/compose/icc/``).

Both come from FOGRA39 characterisation data (offset, coated paper, ISO 12647-2), as redistributed
under the zlib licence by Debian's ``icc-profiles-free`` (``/usr/share/color/icc/FOGRA39L.ti3``):

- ``courrier-FOGRA39-CMYK.icc``: a CMYK output (``prtr``) profile made by ArgyllCMS ``colprof -qm``
  (Debian ``argyll``) from the whole chart: 1,617 patches, peak error 0.72 dE, average 0.16.
- ``courrier-FOGRA39-K.icc``: a monochrome output profile (ICC v2.1, ``prtr``, ``GRAY``, one ``kTRC``
  curve) written here from the chart's black-ink ramp (C = M = Y = 0), for mono printers. Argyll has no
  grey output profiles, and a display (``mntr``) gray profile is no print condition.

    python scripts/make_icc_profiles.py [--ti3 /usr/share/color/icc/FOGRA39L.ti3]
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src" / "courrier" / "compose" / "icc"
CMYK_NAME = "courrier-FOGRA39-CMYK.icc"
GRAY_NAME = "courrier-FOGRA39-K.icc"
COPYRIGHT = "No copyright: built by courrier from FOGRA39L.ti3 (zlib licence, Kai-Uwe Behrmann)"
D50 = (0.9642, 1.0, 0.8249)


def patches(ti3: Path) -> list[tuple[tuple[float, ...], tuple[float, float, float]]]:
    """(CMYK in %, XYZ) of every patch of a CGATS .ti3 chart."""
    lines = ti3.read_text("ascii").splitlines()
    fields = lines[lines.index("BEGIN_DATA_FORMAT") + 1].split()
    start = lines.index("BEGIN_DATA") + 1
    found = []
    for line in lines[start:]:
        if line.startswith("END_DATA"):
            break
        values = dict(zip(fields, line.split(), strict=True))
        cmyk = tuple(float(values[f"CMYK_{ink}"]) for ink in "CMYK")
        xyz = (float(values["XYZ_X"]), float(values["XYZ_Y"]), float(values["XYZ_Z"]))
        found.append((cmyk, xyz))
    return found


def black_ramp(ti3: Path) -> tuple[list[tuple[float, float]], tuple[float, float, float]]:
    """(K in %, Y relative to the paper) of the black-only patches, and the paper's XYZ (0..1)."""
    by_k: dict[float, list[float]] = {}
    paper = (0.0, 0.0, 0.0)
    for (c, m, y, k), xyz in patches(ti3):
        if c == m == y == 0:
            by_k.setdefault(k, []).append(xyz[1])
            if k == 0:
                paper = (xyz[0] / 100, xyz[1] / 100, xyz[2] / 100)
    white = sum(by_k[0]) / len(by_k[0])
    return [(k, sum(ys) / len(ys) / white) for k, ys in sorted(by_k.items())], paper


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _tag_text(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def _tag_desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts (67 bytes of filler).
    return (
        b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    )


def _tag_xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _tag_curve(ramp: list[tuple[float, float]], entries: int = 256) -> bytes:
    """Device gray g (0 black, 1 paper) -> Y relative to the paper: K = 100 (1 - g), interpolated."""
    values = []
    for index in range(entries):
        k = 100 * (1 - index / (entries - 1))
        for (k0, y0), (k1, y1) in zip(ramp, ramp[1:], strict=False):
            if k0 <= k <= k1:
                y = y0 + (y1 - y0) * ((k - k0) / (k1 - k0) if k1 > k0 else 0)
                break
        values.append(round(max(0.0, min(1.0, y)) * 65535))
    return b"curv\0\0\0\0" + struct.pack(">I", entries) + struct.pack(f">{entries}H", *values)


def gray_profile(ti3: Path) -> bytes:
    """A monochrome output profile (ICC.1:2001 6.3.3: desc, kTRC, wtpt, cprt) from the K ramp."""
    ramp, paper = black_ramp(ti3)
    tags = [
        (b"desc", _tag_desc("courrier FOGRA39 black ink (ISO 12647-2 coated, K only)")),
        (b"cprt", _tag_text(COPYRIGHT)),
        (b"wtpt", _tag_xyz(paper)),
        (b"kTRC", _tag_curve(ramp)),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, body = [struct.pack(">I", len(tags))], b""
    for signature, data in tags:
        table.append(signature + struct.pack(">II", offset + len(body), len(data)))
        body += data + b"\0" * (-len(data) % 4)
    size = 128 + table_size + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"  # preferred CMM
        + bytes([2, 0x10, 0, 0])  # version 2.1
        + b"prtrGRAYXYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)  # fixed: the same profile bytes from every build
        + b"acsp"
        + b"\0" * 24  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 1)  # relative colorimetric
        + b"".join(_s15(v) for v in D50)
        + b"\0" * 4  # creator
    )
    header += b"\0" * (128 - len(header))
    return header + b"".join(table) + body


def cmyk_profile(ti3: Path) -> bytes:
    colprof = shutil.which("colprof")
    if colprof is None:
        raise SystemExit("colprof not found: apt-get install argyll")
    with tempfile.TemporaryDirectory() as work:
        base = Path(work) / "FOGRA39"
        shutil.copy(ti3, base.with_suffix(".ti3"))
        subprocess.run(
            [colprof, "-qm", "-D", "courrier FOGRA39 (ISO 12647-2 coated)", "-C", COPYRIGHT, str(base)],
            check=True,
            capture_output=True,
        )
        return base.with_suffix(".icc").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ti3", type=Path, default=Path("/usr/share/color/icc/FOGRA39L.ti3"))
    parser.add_argument("--gray-only", action="store_true", help="Do not rebuild the CMYK profile.")
    args = parser.parse_args()
    TARGET.mkdir(parents=True, exist_ok=True)
    (TARGET / GRAY_NAME).write_bytes(gray_profile(args.ti3))
    if not args.gray_only:
        (TARGET / CMYK_NAME).write_bytes(cmyk_profile(args.ti3))
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
