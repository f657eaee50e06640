"""What the Queue shows for one suspect: which photos, with which captions, and face crops.

Plain functions (no Streamlit) so the page stays UI only and these are tested directly.
"""
from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from ..dataset import Manifest
from .decisions import item_images, value_of

CROP_SIDE = 192
CROP_MARGIN = 0.25


def item_title(row: Any) -> str:
    """``#3 · person (gender) · person 000123`` or ``#7 · label · cat/0.jpg``."""
    what = f"person {value_of(row, 'person')}" if not value_of(row, "image_id") else str(value_of(row, "image_id"))
    field = value_of(row, "field")
    field = f" ({field})" if field and field != "label" else ""
    return f"#{value_of(row, 'rank')} · {value_of(row, 'issue')}{field} · {what}"


def item_photos(row: Any, manifest: Manifest) -> pd.DataFrame:
    """The photos to show for a suspect, in display order, with a caption and a highlight flag.

    A person item shows all of the person's photos (the ones a mask suggestion moves are
    highlighted); a duplicate shows its whole group; any other item its own image.
    Columns: ``image_id``, ``caption``, ``highlight``.
    """
    df = manifest.df.set_index("image_id")
    named = set(item_images(row, manifest))
    if value_of(row, "issue") == "person":
        person = str(value_of(row, "person"))
        ids = manifest.df.loc[manifest.df["group_id"].astype(str) == person, "image_id"].tolist()
        highlight = named if value_of(row, "field") == "mask" else set()
    else:
        ids = [i for i in item_images(row, manifest) if i in df.index]
        highlight = {str(value_of(row, "image_id"))}
    out = []
    for i in ids:
        if i not in df.index:
            continue
        if value_of(row, "issue") == "person":  # the title names the person; a photo is its mask
            caption = f"{PurePosixPath(i).name} · {df.at[i, 'mask'] if 'mask' in df.columns else df.at[i, 'label']}"
        else:  # the whole id (it names the person's folder) and the whole label
            caption = f"{i} · {df.at[i, 'label']}"
        out.append({"image_id": i, "caption": caption, "highlight": i in highlight})
    return pd.DataFrame(out, columns=["image_id", "caption", "highlight"])


def face_boxes(workspace: Any) -> dict[str, Any]:
    """image_id -> ``FaceBox`` (x1, y1, x2, y2, width, height) from the workspace's ``faces.parquet`` ({} if none)."""
    from ..faces.stage import face_boxes as boxes_of, load_faces

    return boxes_of(load_faces(workspace, missing_ok=True))


def face_crop(path: str | os.PathLike[str], box: tuple[float, ...], *,
              side: int = CROP_SIDE, margin: float = CROP_MARGIN) -> bytes | None:
    """JPEG bytes of the face in ``box`` (``x1, y1, x2, y2`` first, upright original pixels) with a
    margin, at most ``side`` px; None when the image file cannot be read (a bad box raises)."""
    from PIL import Image, ImageOps

    x0, y0, x1, y1 = (float(v) for v in tuple(box)[:4])
    try:
        with Image.open(Path(path)) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            mx, my = (x1 - x0) * margin, (y1 - y0) * margin
            crop = im.crop((max(0, int(x0 - mx)), max(0, int(y0 - my)),
                            min(im.width, int(x1 + mx)), min(im.height, int(y1 + my))))
            crop.thumbnail((side, side))
            buf = io.BytesIO()
            crop.save(buf, format="JPEG", quality=88)
            return buf.getvalue()
    except OSError:  # missing or undecodable file (PIL's UnidentifiedImageError is an OSError)
        return None
