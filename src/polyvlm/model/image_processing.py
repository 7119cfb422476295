"""PolyVLMImageProcessor: an image -> a global thumbnail plus overlapping tiles, normalised for SigLIP.

Per image, as the reference's ``molmo_overlap_and_resize_cropping``: resize it to whole patches within
the pixel budget (``pixel_budget.py``), choose the (rows, cols) grid on that size (``tiling.select_grid``),
resize it again to exactly ``cols*266 + 112`` x ``rows*266 + 112`` pixels (each axis on its own, so the
aspect ratio may change a little), cut the rows*cols 378x378 tiles at a 266 px stride, and put a
378x378 resize of the (budget-resized) image first. Every resize is the reference's: float pixels in
[0, 1] (never re-quantised to 8 bits between the two resizes), bicubic with antialiasing as torchvision
computes it on tensors, clipped to [0, 1]. Output: ``pixel_values`` (sum of 1 + rows*cols
crops, 3, 378, 378) and ``image_grids`` (images, 2) holding (rows, cols), which the model needs to lay
out each tile's kept band of pooled positions.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from transformers import AutoImageProcessor
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature
from transformers.image_transforms import convert_to_rgb
from transformers.processing_utils import ImagesKwargs

from polyvlm.model.configuration import PolyVLMConfig
from polyvlm.model.pixel_budget import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, budget_size
from polyvlm.model.tiling import TileGeometry, select_grid, tile_boxes


class PolyVLMImagesKwargs(ImagesKwargs, total=False):
    """Call-time options of the image processor."""

    max_tiles: int


def to_rgb(image: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a PIL image or an (H, W[, C]) uint8 array; transparency over white.

    transformers' ``convert_to_rgb``, which the reference applies: a palette or grey image is expanded,
    an image with alpha is composited onto white rather than having its alpha dropped.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image or a numpy array, got {type(image).__name__}")
    return convert_to_rgb(image, return_numpy=True)


def resize_float(pixels: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(3, H, W) float32 in [0, 1] -> (3, height, width): bicubic, antialiased, clipped to [0, 1].

    What torchvision's ``Resize(size, BICUBIC, antialias=True)`` does to a float tensor, which is how
    the reference resizes (8-bit PIL resizing differs by up to 0.095 after normalisation).
    """
    out = F.interpolate(
        pixels[None], size=(height, width), mode="bicubic", align_corners=False, antialias=True
    )
    return out[0].clamp(0.0, 1.0)


class PolyVLMImageProcessor(BaseImageProcessor):
    """Overlapping tiles (at most ``max_tiles``) plus a thumbnail per image, SigLIP normalisation."""

    model_input_names = ["pixel_values", "image_grids"]
    valid_kwargs = PolyVLMImagesKwargs

    def __init__(
        self,
        max_tiles: int = 12,
        patch_size: int = 14,
        crop_patches: int = 27,
        margin_patches: int = 4,
        min_pixels: int = DEFAULT_MIN_PIXELS,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        image_mean: Iterable[float] = (0.5, 0.5, 0.5),
        image_std: Iterable[float] = (0.5, 0.5, 0.5),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_tiles = max_tiles
        self.patch_size = patch_size
        self.crop_patches = crop_patches
        self.margin_patches = margin_patches
        self.min_pixels = min_pixels
        self.max_pixels = max_pixels
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        self.geometry  # noqa: B018 -- validate the sizes now

    @property
    def geometry(self) -> TileGeometry:
        """Tile sizes this processor cuts."""
        return TileGeometry(self.patch_size, self.crop_patches, self.margin_patches)

    def budget_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) an image is resized to before tiling: whole patches, within the pixel budget."""
        return budget_size(width, height, self.patch_size, self.min_pixels, self.max_pixels)

    def grid_for(self, width: int, height: int, max_tiles: int | None = None) -> tuple[int, int]:
        """(rows, cols) chosen for an image of ``width`` x ``height`` (before the budget resize)."""
        return select_grid(*self.budget_size(width, height), max_tiles or self.max_tiles, self.geometry)

    def _normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """(3, H, W) float32 in [0, 1] -> SigLIP's range: (x - mean) / std in float32, as the reference."""
        mean = torch.tensor(self.image_mean, dtype=torch.float32)[:, None, None]
        std = torch.tensor(self.image_std, dtype=torch.float32)[:, None, None]
        return (pixels - mean) / std

    def crops(
        self, image: Image.Image | np.ndarray, max_tiles: int | None = None
    ) -> tuple[np.ndarray, tuple[int, int]]:
        """One image -> (1 + rows*cols, 3, S, S) float32 crops (thumbnail first) and its (rows, cols)."""
        rgb = to_rgb(image)
        g = self.geometry
        width, height = self.budget_size(rgb.shape[1], rgb.shape[0])
        # uint8 -> [0, 1] as torchvision's convert_image_dtype; resized even at its own size, as the reference
        pixels = resize_float(
            torch.from_numpy(rgb).permute(2, 0, 1).to(torch.float32).div(255), width, height
        )
        rows, cols = select_grid(width, height, max_tiles or self.max_tiles, g)
        resized = self._normalise(resize_float(pixels, g.span(cols), g.span(rows)))
        thumbnail = self._normalise(resize_float(pixels, g.crop_size, g.crop_size))
        tiles = [resized[:, top:bottom, left:right] for left, top, right, bottom in tile_boxes(rows, cols, g)]
        return torch.stack([thumbnail, *tiles]).numpy(), (rows, cols)

    def preprocess(
        self, images, max_tiles: int | None = None, return_tensors: str | None = "pt", **kwargs
    ) -> BatchFeature:
        """Images (one, a list, or a list of lists per sample) -> pixel_values and image_grids."""
        flat = list(_flatten(images))
        if not flat:
            raise ValueError("no images given")
        crops, grids = zip(*(self.crops(image, max_tiles) for image in flat), strict=True)
        data = {"pixel_values": np.concatenate(crops), "image_grids": np.asarray(grids, dtype=np.int64)}
        return BatchFeature(data=data, tensor_type=return_tensors)


def _flatten(images) -> Iterable:
    if isinstance(images, (list, tuple)):
        for item in images:
            yield from _flatten(item)
    else:
        yield images


AutoImageProcessor.register(
    PolyVLMConfig, image_processor_classes={"pil": PolyVLMImageProcessor}, exist_ok=True
)
