"""Face crops cut from the scan's thumbnails (no full image is decoded for a gallery)."""
from __future__ import annotations

import io

from PIL import Image


def crop_thumbnail(thumb: bytes, box: tuple[float, float, float, float], size: tuple[int, int], *,
                   margin: float = 0.15, out_side: int = 96) -> bytes:
    """A face crop from a thumbnail, as JPEG bytes.

    Parameters
    ----------
    thumb : bytes
        The thumbnail (JPEG), a downscaled copy of the whole image.
    box : (x1, y1, x2, y2)
        The face in the original image's pixels.
    size : (width, height)
        The original image's size, to scale ``box`` to the thumbnail.
    margin : float, default 0.15
        Grow the box by this share of its size on every side (clipped to the image).
    out_side : int, default 96
        The crop is resized so its longer side is this many pixels.
    """
    with Image.open(io.BytesIO(thumb)) as im:
        im = im.convert("RGB")
        sx, sy = im.width / size[0], im.height / size[1]
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        left, top = max(0, (x1 - mx) * sx), max(0, (y1 - my) * sy)
        right, bottom = min(im.width, (x2 + mx) * sx), min(im.height, (y2 + my) * sy)
        if right - left < 1 or bottom - top < 1:
            raise ValueError(f"box {box} is empty inside a {size[0]}x{size[1]} image")
        crop = im.crop((round(left), round(top), max(round(right), round(left) + 1), max(round(bottom), round(top) + 1)))
        scale = out_side / max(crop.size)
        crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.BILINEAR)
        buf = io.BytesIO()
        crop.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def upright_image(path, *, quality: int = 90) -> tuple[bytes, tuple[int, int]]:
    """The whole image at full resolution, EXIF-rotated upright, as JPEG bytes, and its ``(width, height)``.

    Decoded on demand for the viewer (galleries keep showing thumbnails). Raises OSError naming
    the file when it cannot be read.
    """
    from PIL import ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=quality)
            return buf.getvalue(), im.size
    except OSError as e:
        raise OSError(f"{path}: cannot be read ({e})") from e
