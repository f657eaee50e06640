"""Transform order and decode options on demo-like images (384x512 JPEG portraits)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from labelscope.feeding import compare_decoders, compare_transform_orders
from labelscope.feeding.orders import images_from_paths


def portrait(path, seed: int):
    """A 384x512 JPEG like the demo's: smooth shapes plus noise (so JPEG has real work)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:512, 0:384]
    base = np.stack([(x * 0.5 + seed * 9) % 255, (y * 0.4) % 255, ((x - 192) ** 2 + (y - 220) ** 2) ** 0.5 % 255], -1)
    arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def portraits(tmp_path_factory):
    d = tmp_path_factory.mktemp("portraits")
    return [portrait(d / f"{i}.jpg", i) for i in range(8)]


def test_resize_then_rotate_is_slower_with_outputs_of_equal_size(portraits):
    imgs = images_from_paths(portraits)
    assert tuple(imgs[0].shape) == (3, 512, 384)
    r = compare_transform_orders(imgs, size=512, repeats=3)
    t = r.table.set_index("order")
    assert list(t.index) == ["resize_then_rotate", "rotate_then_resize"]
    # the seed's point: rotating the upsized 512x682 image does more work than rotating 384x512
    assert r.ratio > 1 and r.faster == "rotate_then_resize"
    assert r.ratio == pytest.approx(t.loc["resize_then_rotate", "seconds"] / t.loc["rotate_then_resize", "seconds"])
    assert r.same_size and set(t["out_size"]) == {"512x682"}
    assert "Resize" in t.loc["resize_then_rotate", "steps"].split("->")[0]
    print(f"resize->rotate / rotate->resize time ratio: {r.ratio:.2f}")


def test_orders_that_change_the_size_are_reported_as_such():
    imgs = [torch.zeros(3, 40, 30, dtype=torch.uint8)] * 2
    r = compare_transform_orders(imgs, orders={"a": v2.Resize(20), "b": v2.Resize(10)}, repeats=1)
    assert not r.same_size and set(r.table["out_size"]) == {"20x26", "10x13"}
    with pytest.raises(ValueError, match="two orders"):
        compare_transform_orders(imgs, orders={"a": v2.Resize(20)})


def test_decode_options_sizes_and_thumbnails(portraits, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    thumbs_asked = []

    def thumbs(ids):
        thumbs_asked.append(list(ids))
        out = {}
        for i in ids[:-1]:  # the last image has no thumbnail
            buf = tmp_path / f"t{i}.jpg"
            Image.new("RGB", (96, 128), (9, 9, 9)).save(buf)
            out[i] = buf.read_bytes()
        return out

    ids = [f"img{i}" for i in range(len(portraits))]
    df = compare_decoders(list(portraits) + [broken], target=128, image_ids=ids, thumbs=thumbs, repeats=1)
    d = df.set_index("method")
    assert list(df["method"]) == ["pil_full", "pil_draft", "cv2_full", "cv2_reduced_2", "cv2_reduced_4", "thumbnails"]
    assert (d.loc["pil_full", "width"], d.loc["pil_full", "height"]) == (384, 512)
    assert (d.loc["pil_draft", "width"], d.loc["pil_draft", "height"]) == (192, 256)   # 1/2: short side >= 128
    assert (d.loc["cv2_reduced_4", "width"], d.loc["cv2_reduced_4", "height"]) == (96, 128)
    assert d.loc["pil_draft", "enough_pixels"] and not d.loc["cv2_reduced_4", "enough_pixels"]
    assert d.loc["pil_full", "speedup"] == 1.0 and (d.loc["pil_full":"cv2_reduced_4", "images"] == 8).all()
    assert "1 of 9 files could not be decoded" in d.loc["pil_full", "note"]
    assert d.loc["thumbnails", "images"] == 7 and "1 of 8 images have no thumbnail" in d.loc["thumbnails", "note"]
    assert not d.loc["thumbnails", "enough_pixels"] and thumbs_asked == [ids]  # the cache is read once
    assert "reading them from the cache took" in d.loc["thumbnails", "note"]
