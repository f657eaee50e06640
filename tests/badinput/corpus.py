"""A bad-input corpus built on the fly (never downloaded): every case a user's data may hold.

``build_corpus(tmp)`` writes three small datasets, one per layout, each mixing good images with
the bad cases, and returns the cases with what each must produce:

- ``scan_error``: a substring of the scan's ``error`` for that image ("" = must decode fine);
- ``problem``: the validation problem code ``labelscope check`` must report (None = none);
- ``row``: the CSV line the problem must name, where there is one.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import make_mask_dataset, write_image


@dataclass(frozen=True)
class Case:
    name: str
    dataset: str            # "folder", "csv" or "mask"
    image_id: str | None    # the affected image (relative to the dataset root), if any
    scan_error: str | None  # substring of the scan error; "" = decodes fine; None = not scanned
    problem: str | None     # validation code from `labelscope check`
    row: int | None = None  # CSV line the problem names
    size: tuple[int, int] | None = None  # (width, height) the scan must report


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, side: int = 20_000) -> Path:
    """A PNG whose header claims side x side pixels (a decompression bomb) in a few hundred bytes."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * side, 9)  # first row only
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
                     + _png_chunk(b"IEND", b""))
    return path


def _save(img: Image.Image, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)
    return path


def _rgb(w=40, h=60, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def build_folder(root: Path, outside: Path) -> list[Case]:
    cases: list[Case] = []
    for i in range(6):  # the good images that must survive
        write_image(root / "good" / f"ok{i}.jpg", seed=i)
    (root / "bad").mkdir(parents=True)
    (root / "bad" / "zero.jpg").write_bytes(b"")
    cases.append(Case("zero-byte file", "folder", "bad/zero.jpg", "empty", None))
    full = io.BytesIO()
    _rgb(200, 200).save(full, format="JPEG", quality=90)
    (root / "bad" / "truncated.jpg").write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    cases.append(Case("truncated JPEG", "folder", "bad/truncated.jpg", "truncat", None))
    (root / "bad" / "text.jpg").write_text("this is not an image\n")
    cases.append(Case("text file named .jpg", "folder", "bad/text.jpg", "not an image", None))
    bomb_png(root / "bad" / "bomb.png")
    cases.append(Case("20000x20000 decompression bomb", "folder", "bad/bomb.png", "decompression bomb", None))
    odd = root / "odd"
    rgba = np.zeros((30, 20, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128
    _save(Image.fromarray(rgba, "RGBA"), odd / "alpha.png")
    cases.append(Case("PNG with alpha", "folder", "odd/alpha.png", "", None, size=(20, 30)))
    _save(Image.fromarray((np.arange(24 * 16, dtype=np.uint16).reshape(16, 24) * 150)), odd / "sixteen.png")
    cases.append(Case("16-bit PNG", "folder", "odd/sixteen.png", "", None, size=(24, 16)))
    _save(_rgb().convert("L"), odd / "gray.jpg")
    cases.append(Case("grayscale JPEG", "folder", "odd/gray.jpg", "", None, size=(40, 60)))
    _save(_rgb().convert("CMYK"), odd / "cmyk.jpg")
    cases.append(Case("CMYK JPEG", "folder", "odd/cmyk.jpg", "", None, size=(40, 60)))
    _save(_rgb().convert("P"), odd / "anim.gif")
    cases.append(Case("GIF", "folder", "odd/anim.gif", "", None, size=(40, 60)))
    _save(_rgb(), odd / "pic.webp")
    cases.append(Case("WebP", "folder", "odd/pic.webp", "", None, size=(40, 60)))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    _save(_rgb(40, 60), odd / "rotated.jpg", exif=exif.tobytes())
    cases.append(Case("EXIF rotation", "folder", "odd/rotated.jpg", "", None, size=(60, 40)))
    write_image(odd / "visage été ü.jpg", seed=7)
    cases.append(Case("non-ASCII file name", "folder", "odd/visage été ü.jpg", "", None))
    write_image(odd / "  lots of   spaces .jpg", seed=8)
    cases.append(Case("space-laden file name", "folder", "odd/  lots of   spaces .jpg", "", None))
    (odd / "escape.jpg").symlink_to(write_image(outside / "outside.jpg", seed=9))
    cases.append(Case("symlink pointing outside the root", "folder", "odd/escape.jpg", None, "outside_root"))
    (odd / "loop.jpg").symlink_to("loop.jpg")
    cases.append(Case("symlink loop (x.jpg -> x.jpg)", "folder", None, None, "symlink_loop"))
    write_image(Path(os.fsdecode(os.fsencode(odd) + b"/bad\xff.jpg")), seed=10)
    cases.append(Case("non-UTF-8 file name (bad\\xff.jpg)", "folder", None, None, "bad_file_name"))
    return cases


def build_csv(root: Path) -> list[Case]:
    for name in ("a", "b", "c"):
        write_image(root / "imgs" / f"{name}.jpg", seed=ord(name))
    write_image(root.parent / "secret.jpg", seed=99)
    text = ("path,label,group\n"
            "imgs/a.jpg,cat,g1\n"          # line 2
            "../secret.jpg,dog,\n"         # line 3
            "imgs/a.jpg,cat,g1\n"          # line 4
            "imgs/nope.jpg,dog,\n"         # line 5
            "imgs/b.jpg,dog,g2\n"          # line 6
            "imgs/c.jpg,=HYPERLINK(1),g3\n")  # line 7: a formula-like label, exported verbatim
    (root / "list.csv").write_bytes(("\ufeff" + text).encode("utf-8"))
    (root / "nocols.csv").write_text("file,class\nimgs/a.jpg,cat\n")
    return [
        Case("CSV with a BOM", "csv", "imgs/a.jpg", "", None),
        Case("CSV with a ../ path", "csv", None, None, "outside_root", 3),
        Case("CSV with duplicate rows", "csv", None, None, "duplicate_id", 4),
        Case("CSV naming a missing file", "csv", None, None, "missing_image", 5),
        Case("CSV with missing columns", "csv-nocols", None, None, "missing_columns", 1),
    ]


def build_mask(root: Path) -> list[Case]:
    make_mask_dataset(root, [("000001", "female", "Asian", 25), ("000002", "male", "Asian", 45),
                             ("000003", "female", "Asian", 33), ("000004", "male", "Asian", 20),
                             ("000005", "female", "Asian", 70)])
    csv = root / "train.csv"
    lines = csv.read_text().splitlines()
    lines[3] = lines[3].replace(",33,", ",forty,")   # line 4
    lines[5] = lines[5].replace(",female,", ",f,")   # line 6
    lines.append("000002,male,Asian,45,000002_male_Asian_45")  # line 7: duplicate id
    csv.write_text("\n".join(lines) + "\n")
    (root / "images" / "000004_male_Asian_20" / "normal.jpg").unlink()
    loop = root / "images" / "000002_male_Asian_45" / "mask5.jpg"
    loop.unlink()
    loop.symlink_to("mask5.jpg")
    return [
        Case("symlink loop in a person folder", "mask", None, None, "symlink_loop", 3),
        Case("train.csv whose age is 'forty'", "mask", None, None, "bad_age", 4),
        Case("unknown gender", "mask", None, None, "unknown_value", 6),
        Case("duplicate person id", "mask", None, None, "duplicate_id", 7),
        Case("person folder with 6 photos", "mask", None, None, "person_incomplete", 5),
    ]


PEOPLE = [("000001", "female", "Asian", 25), ("000002", "male", "Asian", 45), ("000003", "female", "Asian", 62)]


def build_safety(tmp: Path, roots: dict[str, Path]) -> list[Case]:
    """Datasets of issue 12's silent losses and crashes, one per case (most make the dataset unusable)."""
    alias = make_mask_dataset(tmp / "alias", PEOPLE)
    with (alias / "train.csv").open("a") as f:
        f.write("000009,female,Asian,30,000002_male_Asian_45/\n")  # line 5: line 3's folder, spelled otherwise
    quote = make_mask_dataset(tmp / "quote", PEOPLE)
    lines = (quote / "train.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",Asian,", ',"Asian,')  # line 3: a quote never closed
    (quote / "train.csv").write_text("\n".join(lines) + "\n")
    signed = tmp / "signed"
    rows = ["path,label"]
    for k in range(8):
        label = "+1" if k % 2 else "-1"
        write_image(signed / label / f"img{k}.jpg", seed=k)
        rows.append(f"{label}/img{k}.jpg,{label}")
    (signed / "list.csv").write_text("\n".join(rows) + "\n")
    (tmp / "csvloop").mkdir()
    (tmp / "csvloop" / "list.csv").symlink_to("list.csv")
    linked = tmp / "linked"
    make_mask_dataset(tmp / "otherdisk", PEOPLE)
    linked.mkdir()
    (linked / "train.csv").write_bytes((tmp / "otherdisk" / "train.csv").read_bytes())
    (linked / "images").symlink_to(tmp / "otherdisk" / "images")
    baddb = make_mask_dataset(tmp / "baddb", PEOPLE)
    (baddb / ".labelscope").mkdir()
    (baddb / ".labelscope" / "review.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x07" * 2000)  # truncated
    roots.update({"mask-alias": alias, "mask-quote": quote, "csv-signed": signed / "list.csv",
                  "csv-loop": tmp / "csvloop" / "list.csv", "mask-linked": linked, "mask-baddb": baddb})
    return [
        Case("train.csv row aliasing a person folder", "mask-alias", None, None, "duplicate_path", 5),
        Case("unterminated quote in train.csv", "mask-quote", None, None, "unreadable_csv", 3),
        Case("labels -1 / +1 (formula-like identifiers)", "csv-signed", "+1/img1.jpg", None, None),
        Case("CSV manifest that is a symlink loop", "csv-loop", None, None, "symlink_loop"),
        Case("images/ symlinked to another disk", "mask-linked", "images/000002_male_Asian_45/mask1.jpg", "", None),
        Case("damaged review.sqlite (the dataset itself is fine)", "mask-baddb",
             "images/000001_female_Asian_25/normal.jpg", None, None),
    ]


def build_corpus(tmp: Path) -> tuple[dict[str, Path], list[Case]]:
    roots = {"folder": tmp / "folder", "csv": tmp / "csvds" / "list.csv", "csv-nocols": tmp / "csvds" / "nocols.csv",
             "mask": tmp / "mask"}
    cases = build_folder(roots["folder"], tmp / "outside") + build_csv(tmp / "csvds") + build_mask(roots["mask"])
    return roots, cases + build_safety(tmp, roots)
