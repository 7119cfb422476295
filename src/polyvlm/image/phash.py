"""64-bit perceptual hash (the definition of `imagehash.phash`) and the Hamming distance between two."""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

HASH_SIZE = 8  # bits per side: a 64-bit hash
HIGHFREQ_FACTOR = 4
INPUT_SIDE = HASH_SIZE * HIGHFREQ_FACTOR  # the image is reduced to 32x32 before the DCT
# A box-averaged copy whose short side is at least this long hashes like the full image (within Hamming 2
# on 308 random variants of real photos, see docs/images.md); 48 lets most photos decode at 1/8 scale.
REDUCED_MIN_SIDE = 48
Box = tuple[float, float, float, float]


@cache
def _dct_rows() -> np.ndarray:
    """The first HASH_SIZE rows of the unnormalised DCT-II matrix of length INPUT_SIDE (scipy's default)."""
    k = np.arange(HASH_SIZE)[:, None]
    n = np.arange(INPUT_SIDE)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * INPUT_SIDE))


def phash_pixels(pixels: np.ndarray) -> str:
    """The hash of a 32x32 grayscale array: DCT, low 8x8 block, bits above its median, as 16 hex digits."""
    c = _dct_rows()
    # only the low-frequency 8x8 block is used, so only those DCT rows are computed: C X C^T
    low = c @ pixels.astype(np.float64) @ c.T
    middle = np.partition(low.ravel(), (31, 32))[31:33]  # the median of 64 values, without a full sort
    bits = low > middle.mean()
    # same bit order as str(imagehash.ImageHash): row-major, first bit most significant
    return np.packbits(bits).tobytes().hex()


def phash(image: Image.Image, box: Box | None = None, transpose: Image.Transpose | None = None) -> str:
    """imagehash.phash(image) as 16 hex digits; `box`: the region to hash; `transpose`: how to turn it upright."""
    gray = image if image.mode == "L" else image.convert("L")
    small = gray.resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.LANCZOS, box=box)
    if transpose is not None:  # turning the 32x32 copy is the same as turning the image first, and cheaper
        small = small.transpose(transpose)
    return phash_pixels(np.asarray(small))


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def reduced_gray(image: Image.Image) -> tuple[Image.Image, Box | None]:
    """A gray copy averaged by an integer factor for hashing, and the region that is the image."""
    gray = image if image.mode == "L" else image.convert("L")
    factor = min(gray.size) // REDUCED_MIN_SIDE
    if factor < 2:
        return gray, None
    # reduce() covers a partial last block too: the image spans width/factor reduced pixels, not ceil()
    return gray.reduce(factor), (0.0, 0.0, gray.width / factor, gray.height / factor)
