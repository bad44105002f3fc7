"""PNG previews of a print file's pages, rendered by Ghostscript as a print shop's RIP would."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from courrier.errors import ConfigError

DEFAULT_RESOLUTION = 100


def render_pngs(
    pdf: Path, folder: Path, pages: Sequence[int], resolution: int = DEFAULT_RESOLUTION
) -> list[Path]:
    """``folder/page-<n>.png`` for each page number (from 1)."""
    gs = shutil.which("gs")
    if gs is None:
        raise ConfigError(
            "PNG previews need Ghostscript (`gs`): apt-get install ghostscript", code="missing_ghostscript"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        target = folder / f"page-{page}.png"
        subprocess.run(
            [
                gs,
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=png16m",
                f"-r{resolution}",
                f"-dFirstPage={page}",
                f"-dLastPage={page}",
                f"-sOutputFile={target}",
                str(pdf),
            ],
            check=True,
            capture_output=True,
        )
        written.append(target)
    return written
