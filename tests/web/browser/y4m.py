"""A fake camera: a confirmation letter's QR, as the desk's webcam would film it, in a Y4M file, and a
Chromium of its own that plays it as its webcam.

Chromium's fake capture device (``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE.y4m``) plays a YUV4MPEG2 file in a loop. The file is::

    YUV4MPEG2 W<width> H<height> F<fps>:1 Ip A1:1 C420jpeg\\n
    then for each frame:
    FRAME\\n
    <width*height bytes: Y (luma), row by row>
    <(width/2)*(height/2) bytes: Cb>  <(width/2)*(height/2) bytes: Cr>

4:2:0 chroma: one Cb and one Cr sample per 2x2 block of pixels; a gray picture has both at 128.
Width and height must be even.

The picture: the letter rendered by Ghostscript (a real RIP, as a printer would), the QR found by
zxing-cpp on the rendering, cropped with a quiet zone around it, scaled and laid on a light gray
"desk" in the middle of the frame, a little off centre and with a slight blur, as a hand holds a letter
under a webcam.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image, ImageFilter

from ...compose.conftest import PdfTools
from .conftest import CHROMIUM_ARGS, LOCAL, PAGE_WAIT_MS

WIDTH = 640
HEIGHT = 480
FPS = 10
DESK_GRAY = 200  # the table under the letter: not white, so the paper's edge shows


def write_y4m(path: Path, frames: list[Image.Image], fps: int = FPS) -> Path:
    """``frames`` (all of one even size, any mode: converted to 8-bit gray) as a 4:2:0 Y4M file."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    width, height = frames[0].size
    if width % 2 or height % 2:
        raise ValueError(f"Y4M 4:2:0 needs an even width and height, not {width}x{height}")
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in frames:
            if frame.size != (width, height):
                raise ValueError(f"frame of {frame.size}, expected {(width, height)}")
            out.write(b"FRAME\n")
            out.write(frame.convert("L").tobytes())
            out.write(chroma)
            out.write(chroma)
    return path


def read_y4m_frame(path: Path, index: int = 0) -> Image.Image:
    """Frame ``index``'s luma as a gray image: the writer read back (tests of the writer itself)."""
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    fields = {part[:1]: part[1:] for part in header.split(b" ")[1:]}
    width, height = int(fields[b"W"]), int(fields[b"H"])
    frame_bytes = len(b"FRAME\n") + width * height * 3 // 2
    start = index * frame_bytes
    if rest[start : start + 6] != b"FRAME\n":
        raise ValueError(f"no frame {index} in {path}")
    luma = rest[start + 6 : start + 6 + width * height]
    return Image.frombytes("L", (width, height), luma)


def qr_crop(pdf: Path, resolution: int = 200) -> Image.Image:
    """The letter's QR with a quiet zone of a quarter of its width around it, from a Ghostscript
    rendering of page 1 (zxing-cpp finds where it is)."""
    page = PdfTools().render(pdf, 1, resolution).convert("L")
    found = [r for r in zxingcpp.read_barcodes(page) if r.format.name == "QRCode"]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} QR codes on the rendered letter, expected 1")
    position = found[0].position
    xs = [position.top_left.x, position.top_right.x, position.bottom_left.x, position.bottom_right.x]
    ys = [position.top_left.y, position.top_right.y, position.bottom_left.y, position.bottom_right.y]
    margin = (max(xs) - min(xs)) // 4
    box = (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
    return page.crop(box)


def letter_frames(pdf: Path, count: int = 6) -> list[Image.Image]:
    """``count`` frames of the QR held under the camera: the crop scaled to about 60% of the frame's
    height, slightly blurred, drifting a few pixels from frame to frame."""
    crop = qr_crop(pdf)
    side = HEIGHT * 3 // 5
    qr = crop.resize((side, side), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(0.8))
    frames = []
    for number in range(count):
        frame = Image.new("L", (WIDTH, HEIGHT), DESK_GRAY)
        frame.paste(qr, ((WIDTH - side) // 2 + 3 * number - 20, (HEIGHT - side) // 2 + 2 * number - 10))
        frames.append(frame)
    return frames


def letter_video(pdf: Path, path: Path) -> Path:
    """The Y4M a fake camera plays: the QR of the letter ``pdf``."""
    return write_y4m(path, letter_frames(pdf))


def blank_video(path: Path) -> Path:
    """A camera looking at an empty desk: nothing to read."""
    return write_y4m(path, [Image.new("L", (WIDTH, HEIGHT), DESK_GRAY)])


def camera_page(
    playwright_instance: Any, chromium_path: str, video: Path, *, bypass_csp: bool = False
) -> Iterator[Any]:
    """A page of its own Chromium whose camera plays ``video``; fails the test, as ``new_page`` does,
    when the page asks another site for anything or logs an error."""
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    foreign: list[str] = []
    errors: list[str] = []
    try:
        context = browser.new_context(permissions=["camera"], bypass_csp=bypass_csp)
        context.set_default_timeout(PAGE_WAIT_MS)
        context.on(
            "request",
            lambda request: None if request.url.startswith(LOCAL) else foreign.append(request.url),
        )
        page = context.new_page()
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
    finally:
        browser.close()
    assert foreign == [], "pages asked for something from another site"
    assert errors == [], "the browser logged errors"
