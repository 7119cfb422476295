"""The image processor gives the reference's pixels: photos of several sizes and modes (RGB, palette,
grey) equal a float resize written here from the reference's steps (uint8 / 255, torchvision's
bicubic antialiased resize of float tensors = F.interpolate, clip, (x - mean) / std) within 1e-4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from polyvlm.model.image_processing import PolyVLMImageProcessor

PHOTOS = Path(__file__).parents[2] / "examples/data/photos"
NAMES = ["easyocr__japanese.jpg", "paddleocr__imgs_en_img_12.jpg", "paddleocr__japan_2.jpg", "ukbench00120_resize.jpg", "easyocr__thai.jpg"]  # fmt: skip
MEAN, STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def reference_resize(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """torchvision.transforms.Resize([h, w], BICUBIC, antialias=True) on a float (3, H, W), then clip."""
    out = F.interpolate(x[None], size=[height, width], mode="bicubic", align_corners=False, antialias=True)
    return torch.clip(out[0], 0.0, 1.0)


def reference_crops(image: Image.Image, size: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    """The reference's crops: resize to the budget size, to the tiled span, cut at the stride; thumbnail first."""
    rgb = np.array(image.convert("RGB"))  # no alpha in these photos: convert_to_rgb is a plain convert
    x = torch.from_numpy(rgb).permute(2, 0, 1).to(torch.float32) / 255  # convert_image_dtype
    x = reference_resize(x, size[1], size[0])
    rows, cols = grid
    span = reference_resize(x, rows * 266 + 112, cols * 266 + 112)
    mean, std = torch.tensor(MEAN)[:, None, None], torch.tensor(STD)[:, None, None]
    tiles = [
        span[:, r * 266 : r * 266 + 378, c * 266 : c * 266 + 378] for r in range(rows) for c in range(cols)
    ]
    return ((torch.stack([reference_resize(x, 378, 378), *tiles]) - mean) / std).numpy()


@pytest.mark.parametrize("name", NAMES)
def test_pixels_equal_the_reference_float_resize(name):
    processor = PolyVLMImageProcessor(max_tiles=6, image_mean=MEAN, image_std=STD)
    with Image.open(PHOTOS / name) as image:
        image.load()
        got, grid = processor.crops(image)
        expected = reference_crops(image, processor.budget_size(*image.size), grid)
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) < 1e-4
    # control: PIL's 8-bit bicubic path, what the processor did before, is visibly different
    with Image.open(PHOTOS / name) as image:
        small = image.convert("RGB").resize(processor.budget_size(*image.size), Image.Resampling.BICUBIC)
        eight_bit = np.asarray(small.resize((378, 378), Image.Resampling.BICUBIC), dtype=np.float32) / 255
    thumbnail = (eight_bit.transpose(2, 0, 1) - np.array(MEAN)[:, None, None]) / np.array(STD)[:, None, None]
    assert float(np.abs(thumbnail - expected[0]).max()) > 1e-2
