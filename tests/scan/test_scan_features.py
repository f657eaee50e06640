"""compute_features: correct statistics from one decode, and a clear error for every odd input."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from labelscope.scan.features import FEATURE_COLUMNS, compute_features
from labelscope.scan.pixels import laplacian_variance
from labelscope.scan.phash import hamming


def photo(h: int = 120, w: int = 90, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like RGB image (gradients, a disc, mild noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c = rng.uniform(40, 200, 3)
    img = np.stack([c[0] + 50 * np.sin(x / (9 + seed)), c[1] + 40 * np.cos(y / 13), c[2] + 0.5 * (x - y)], -1)
    disc = (x - w * rng.uniform(0.3, 0.7)) ** 2 + (y - h * rng.uniform(0.3, 0.7)) ** 2 < (min(h, w) / 4) ** 2
    img[disc] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def save(path: Path, arr_or_img, fmt: str | None = None, **kw) -> Path:
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    img.save(path, format=fmt, **kw)
    return path


def decoded(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def check_stats(row: dict, rgb: np.ndarray) -> None:
    """Every exact statistic agrees with a direct NumPy computation on the decoded pixels."""
    h, w = rgb.shape[:2]
    assert (row["width"], row["height"]) == (w, h)
    for k, c in enumerate("rgb"):
        hist = row[f"hist_{c}"]
        assert len(hist) == 32 and sum(hist) == w * h
        assert hist == np.bincount(rgb[..., k].ravel() // 8, minlength=32).tolist()
        assert row[f"mean_{c}"] == pytest.approx(rgb[..., k].mean(), abs=1e-9)
        assert row[f"std_{c}"] == pytest.approx(rgb[..., k].std(), abs=1e-6)
    lum = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert row["brightness"] == pytest.approx(lum.mean(), abs=1e-6)


def test_rgb_jpeg_statistics_match_numpy(tmp_path):
    p = save(tmp_path / "a.jpg", photo(120, 90), quality=92)
    row = compute_features(p)
    assert row["error"] == "" and row["format"] == "JPEG" and row["mode"] == "RGB"
    check_stats(row, decoded(p))
    assert row["file_size"] == p.stat().st_size
    import hashlib

    assert row["sha1"] == hashlib.sha1(p.read_bytes()).hexdigest()
    assert row["aspect"] == pytest.approx(90 / 120)
    assert row["is_grayscale"] is False
    # contrast: std of luminance at half size; close to the full-size value on a smooth image
    gray = cv2.cvtColor(decoded(p), cv2.COLOR_RGB2GRAY).astype(np.float64)
    assert row["contrast"] == pytest.approx(gray.std(), rel=0.1)
    assert set(FEATURE_COLUMNS) - {"image_id", "mtime_ns", "ctime_ns", "scanner_version"} <= set(row)


def test_thumbnail_is_a_small_jpeg_of_the_same_picture(tmp_path):
    arr = photo(512, 384)
    p = save(tmp_path / "big.png", arr)
    row = compute_features(p)
    thumb = Image.open(io.BytesIO(row["thumb"]))
    assert thumb.format == "JPEG" and thumb.size == (96, 128)
    ref = cv2.resize(arr, (96, 128), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(np.asarray(thumb.convert("RGB")).astype(int) - ref).mean() < 6
    small = compute_features(save(tmp_path / "small.png", photo(40, 30)))
    assert Image.open(io.BytesIO(small["thumb"])).size == (30, 40)  # never upscaled


def test_sharpness_is_the_laplacian_variance_and_drops_with_blur(tmp_path):
    g = np.random.default_rng(0).integers(0, 256, (64, 80), dtype=np.uint8)
    assert laplacian_variance(g) == pytest.approx(cv2.Laplacian(g, cv2.CV_64F).var(), rel=1e-9)
    arr = photo(256, 192, seed=2)
    sharp = compute_features(save(tmp_path / "s.png", arr))
    blurred = compute_features(save(tmp_path / "b.png", cv2.GaussianBlur(arr, (0, 0), 3)))
    assert blurred["sharpness"] < 0.5 * sharp["sharpness"]


def test_phash_near_for_reencoded_far_for_different(tmp_path):
    a = photo(256, 192, seed=1)
    h1 = compute_features(save(tmp_path / "q95.jpg", a, quality=95))["phash"]
    h2 = compute_features(save(tmp_path / "q40.jpg", a, quality=40))["phash"]
    h3 = compute_features(save(tmp_path / "other.jpg", photo(256, 192, seed=7), quality=95))["phash"]
    assert isinstance(h1, int) and -(2 ** 63) <= h1 < 2 ** 63
    assert hamming(h1, h2) <= 4
    assert hamming(h1, h3) >= 16
    assert hamming(np.array([h1, h3]), h2).tolist()[0] == hamming(h1, h2)


def test_grayscale_jpeg(tmp_path):
    p = save(tmp_path / "g.jpg", photo()[..., 1], quality=90)
    row = compute_features(p)
    assert row["mode"] == "L" and row["is_grayscale"] is True and row["error"] == ""
    assert row["hist_r"] == row["hist_g"] == row["hist_b"]
    check_stats(row, decoded(p))


def test_colour_image_with_grey_content_is_grayscale(tmp_path):
    g = photo()[..., 0]
    row = compute_features(save(tmp_path / "g.jpg", np.stack([g, g, g], -1), quality=90))
    assert row["mode"] == "RGB" and row["is_grayscale"] is True


def test_rgba_png_is_flattened_on_white(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = (200, 10, 10)
    rgba[:, :15, 3] = 255  # left half opaque red, right half transparent
    row = compute_features(save(tmp_path / "a.png", rgba))
    assert row["mode"] == "RGBA" and row["error"] == ""
    assert row["mean_r"] == pytest.approx((200 + 255) / 2)
    assert row["mean_g"] == pytest.approx((10 + 255) / 2)
    assert row["hist_g"][1] == 300 and row["hist_g"][31] == 300


def test_16_bit_png_is_scaled_to_8_bit(tmp_path):
    arr = np.full((10, 12), 65535, np.uint16)
    arr[:, :6] = 32896  # 128 * 257
    p = tmp_path / "deep.png"
    Image.fromarray(arr).save(p)
    assert Image.open(p).mode.startswith("I")
    row = compute_features(p)
    assert row["error"] == "" and (row["width"], row["height"]) == (12, 10)
    assert row["mean_r"] == pytest.approx((128 + 255) / 2) and row["is_grayscale"] is True


def test_cmyk_jpeg_gif_and_webp(tmp_path):
    arr = photo()
    cmyk = save(tmp_path / "c.jpg", Image.fromarray(arr).convert("CMYK"), quality=95)
    gif = save(tmp_path / "p.gif", Image.fromarray(arr).convert("P"))
    webp = save(tmp_path / "w.webp", arr, quality=90)
    for p, fmt, mode in ((cmyk, "JPEG", "CMYK"), (gif, "GIF", "P"), (webp, "WEBP", "RGB")):
        row = compute_features(p)
        assert (row["error"], row["format"], row["mode"]) == ("", fmt, mode), p.name
        check_stats(row, decoded(p))
        assert abs(row["mean_r"] - arr[..., 0].mean()) < 12


def test_exif_rotated_jpeg_swaps_width_and_height(tmp_path):
    arr = photo(40, 100)  # stored 100 wide, 40 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    p = save(tmp_path / "r.jpg", arr, quality=95, exif=exif.tobytes())
    row = compute_features(p)
    assert (row["width"], row["height"]) == (40, 100)
    upright = np.asarray(Image.open(p).transpose(Image.Transpose.ROTATE_270).convert("RGB"))
    check_stats(row, upright)
    assert Image.open(io.BytesIO(row["thumb"])).size == (40, 100)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` 1-bit pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, make, message", [
    ("empty.jpg", lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    ("text.jpg", lambda p: p.write_text("hello, I am not a picture\n"), "not an image (cannot identify image file)"),
    ("bomb.png", lambda p: p.write_bytes(png_claiming(20000, 20000)), "decompression bomb"),
    ("missing.jpg", lambda p: None, "file not found"),
])
def test_unusable_files_give_a_clear_error(tmp_path, name, make, message):
    p = tmp_path / name
    make(p)
    row = compute_features(p)
    assert row["error"].startswith(message), row["error"]
    assert np.isnan(row["mean_r"]) and row["hist_r"] == [] and row["thumb"] == b"" and row["phash"] is None


def test_truncated_jpeg_is_an_error(tmp_path):
    p = save(tmp_path / "t.jpg", photo(200, 150), quality=95)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    row = compute_features(p)
    assert row["error"].startswith("truncated JPEG"), row["error"]
    assert (row["width"], row["height"]) == (150, 200)  # the header was read
    assert np.isnan(row["brightness"])


def test_truncated_stays_an_error_when_pillow_is_lenient(tmp_path, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    p = save(tmp_path / "t.jpg", photo(200, 150), quality=95)
    p.write_bytes(p.read_bytes()[:1500])
    assert compute_features(p)["error"].startswith("truncated JPEG")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored


def test_pixel_limit_is_explicit(tmp_path):
    p = save(tmp_path / "a.png", photo(20, 30))
    row = compute_features(p, max_pixels=500)
    assert row["error"] == "decompression bomb: 30x20 pixels exceeds limit of 500"
    assert compute_features(p)["error"] == ""


def test_tiny_and_extreme_shapes(tmp_path):
    for size in ((1, 1), (1, 700), (900, 2), (63, 64)):
        row = compute_features(save(tmp_path / f"{size[0]}x{size[1]}.png", np.full((size[1], size[0], 3), 90, np.uint8)))
        assert row["error"] == "" and (row["width"], row["height"]) == size
        assert sum(row["hist_g"]) == size[0] * size[1] and row["mean_g"] == 90
        assert max(Image.open(io.BytesIO(row["thumb"])).size) <= 128


def test_an_unexpected_failure_is_an_error_row_not_a_crash(tmp_path, monkeypatch):
    import labelscope.scan.features as features

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(features, "texture", broken)
    row = compute_features(save(tmp_path / "a.png", photo()))
    assert row["error"] == "cannot compute features (RuntimeError: boom)"
    assert np.isnan(row["mean_r"]) and row["thumb"] == b"" and row["width"] == 90
