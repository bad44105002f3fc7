"""The files a template names: found inside its folder only, and opened with limits.

Every file a template uses (texts, strings, images, fonts, the background) is resolved by
:func:`inside_template`: a relative path with no ``..``, not absolute, and, symlinks followed, still
inside the folder. So everything that goes into a letter is in the folder, and so in the template version
hash (``courrier.campaigns.store.template_hash``): changing any of it changes the version.

The openers turn a bad file into one :class:`TemplateError` naming it (a truncated font, a PNG that
decompresses to gigabytes, an empty background), where a library would raise its own exception deep in a
print run. Limits: :data:`MAX_IMAGE_PIXELS` (a full A4 page at 600 dpi is 35 million) and
:data:`MAX_ASSET_BYTES` per file.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path, PurePosixPath
from typing import Any

from courrier.errors import TemplateError

MAX_IMAGE_PIXELS = 40_000_000
MAX_ASSET_BYTES = 64 * 1024 * 1024


def inside_template(folder: Path, name: str, what: str) -> Path:
    """The file ``name`` of the template in ``folder``, refused if it could be anywhere else."""
    relative = PurePosixPath(name.replace("\\", "/"))
    if not name or relative.is_absolute() or Path(name).is_absolute() or ".." in relative.parts:
        raise TemplateError(
            f"{folder}: {what} {name!r} must be a file inside the template folder (no absolute path, no ..)",
            code="asset_outside_template",
        )
    root = folder.resolve()
    candidate = root.joinpath(*relative.parts)
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise TemplateError(
            f"{folder}: {what} {name!r} is a link to {resolved}, outside the template folder",
            code="asset_outside_template",
        )
    return candidate


def read_asset(path: Path, what: str) -> bytes:
    """A template file's bytes, refused if it is not a regular file or is too large."""
    try:
        with path.open("rb") as file:
            if not os.path.isfile(path):
                raise TemplateError(f"{what} {path} is not a regular file", code="bad_asset")
            data = file.read(MAX_ASSET_BYTES + 1)
    except OSError as error:
        raise TemplateError(f"cannot read {what} {path}: {error.strerror}", code="bad_asset") from error
    if len(data) > MAX_ASSET_BYTES:
        raise TemplateError(
            f"{what} {path} is larger than {MAX_ASSET_BYTES // 1024 // 1024} MB", code="asset_too_large"
        )
    return data


def read_text_asset(path: Path, what: str) -> str:
    data = read_asset(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TemplateError(
            f"{what} {path} is not UTF-8 (byte {error.start})", code="bad_template"
        ) from error


def open_image(path: Path, name: str) -> Any:
    """A PNG or JPEG, decoded, after checking its size in pixels from its header."""
    from PIL import Image

    data = read_asset(path, f"{name}: image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ("PNG", "JPEG"):
                raise TemplateError(
                    f"{name}: image {path} is {image.format}, not a PNG or JPEG", code="bad_image"
                )
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise TemplateError(
                    f"{name}: image {path} is {width} x {height} pixels, more than {MAX_IMAGE_PIXELS:,}",
                    code="image_too_large",
                )
            image.load()
    except TemplateError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TemplateError(f"{name}: image {path}: {error}", code="image_too_large") from error
    except (OSError, ValueError, SyntaxError, Warning) as error:
        raise TemplateError(f"{name}: cannot read image {path}: {error}", code="bad_image") from error
    return image


def open_background(path: Path) -> Any:
    """The designer's ``background.pdf`` opened with pikepdf, with at least one page."""
    import pikepdf

    data = read_asset(path, "background")
    try:
        pdf = pikepdf.open(io.BytesIO(data))
        pages = len(pdf.pages)
    except (pikepdf.PdfError, ValueError, OSError) as error:
        raise TemplateError(
            f"background {path} is not a readable PDF: {str(error).splitlines()[0]}", code="bad_background"
        ) from error
    if not pages:
        raise TemplateError(f"background {path} has no page", code="bad_background")
    return pdf
