"""The print condition a file is made for: its output intent and the colour operators that go with it.

Two conditions, both characterised by FOGRA39 (offset on coated paper, ISO 12647-2; the profiles and how
they were built: ``icc/README.md``):

- ``cmyk``: DeviceCMYK, with a CMYK output (``prtr``) profile as the PDF/X output intent. The letterhead's
  colours (``#rrggbb`` in a template, read as sRGB) are converted to CMYK once per file through that
  profile, relative colorimetric; every text, code and mark is pure black ink ``0 0 0 1 k``, so no
  registration of four plates can blur a letter or a barcode.
- ``gray``: DeviceGray, with a monochrome output profile built from FOGRA39's black-ink ramp, for a mono
  printer; colours become the gray the profile gives them.

A template's ``gray = g`` (0 black, 1 white) is K = 1 - g in CMYK: still black ink only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from PIL import Image, ImageCms

from courrier.compose.pdf import number

ICC_FOLDER = "icc"


@dataclass(frozen=True)
class PrintCondition:
    name: str  # "cmyk" or "gray"
    profile_file: str
    components: int
    identifier: str  # OutputConditionIdentifier
    info: str

    @property
    def black(self) -> bytes:
        """Fill and stroke in pure black ink: the state every page starts from."""
        return b"0 0 0 1 k 0 0 0 1 K" if self.components == 4 else b"0 g 0 G"

    def icc(self) -> bytes:
        return _profile_bytes(self.profile_file)

    def gray(self, level: float, fill: bool) -> bytes:
        """The operator for gray level ``level`` (0 black, 1 paper white) in this condition."""
        if self.components == 4:
            return b"0 0 0 %s %s" % (number(round(1 - level, 3)), b"k" if fill else b"K")
        return b"%s %s" % (number(round(level, 3)), b"g" if fill else b"G")

    def colour(self, hex_colour: str, fill: bool) -> bytes:
        """The operator for an sRGB ``#rrggbb`` colour, converted to this condition's device space."""
        values = _convert(self.profile_file, self.components, hex_colour.lower())
        operator = (b"k" if fill else b"K") if self.components == 4 else (b"g" if fill else b"G")
        return b" ".join(number(v) for v in values) + b" " + operator

    def image(self, image: Image.Image) -> tuple[Image.Image, str]:
        """An RGB or gray image in this condition's device space, and that space's PDF name."""
        if image.mode == "L":
            return image, "DeviceGray"  # gray is black ink in either condition
        converted = ImageCms.applyTransform(
            image.convert("RGB"), _transform(self.profile_file, self.components)
        )
        assert converted is not None
        return converted, "DeviceCMYK" if self.components == 4 else "DeviceGray"


CMYK = PrintCondition(
    "cmyk",
    "courrier-FOGRA39-CMYK.icc",
    4,
    "FOGRA39",
    "Coated FOGRA39 (ISO 12647-2:2004), courrier profile from the FOGRA39L characterisation data",
)
GRAY = PrintCondition(
    "gray",
    "courrier-FOGRA39-K.icc",
    1,
    "Custom",
    "Black ink on coated paper, from the FOGRA39L characterisation data's K ramp",
)
CONDITIONS = {condition.name: condition for condition in (CMYK, GRAY)}


@cache
def _profile_bytes(file: str) -> bytes:
    return resources.files("courrier.compose").joinpath(ICC_FOLDER, file).read_bytes()


@cache
def _transform(file: str, components: int) -> ImageCms.ImageCmsTransform:
    target = ImageCms.ImageCmsProfile(io.BytesIO(_profile_bytes(file)))
    return ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"),
        target,
        "RGB",
        "CMYK" if components == 4 else "L",
        ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )


@cache
def _convert(file: str, components: int, hex_colour: str) -> tuple[float, ...]:
    pixel = ImageCms.applyTransform(Image.new("RGB", (1, 1), hex_colour), _transform(file, components))
    assert pixel is not None
    channels = pixel.tobytes()  # one byte per channel: C M Y K, or the gray level
    return tuple(round(channel / 255, 3) for channel in channels)
