"""Images to sentences by linear assignment on a similarity matrix, with MMC4's semantics for non-square matrices.

`sim[i][j]` is the similarity of image i and sentence j. The assignment maximises the summed similarity
of the chosen (image, sentence) pairs, each sentence taking at most one image and each image one sentence
(scipy's `linear_sum_assignment`, which solves rectangular problems exactly; MMC4 pads the matrix with a
constant dummy cost and calls lapjv, which gives the same optimum):

- as many images as sentences, or fewer: every image gets its own sentence; some sentences get none.
- more images than sentences: every sentence gets one image by the optimum; each image left over goes to
  its most similar sentence (argmax, the first on ties), so no image is lost and a sentence may hold
  several images (MMC4's `compute_assignments.get_image_assignments`).
- no sentences: no image can be placed (an empty list of assignments is not returned: ValueError).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign_images(sim: Sequence[Sequence[float]] | np.ndarray) -> list[int]:
    """The sentence index of each image (rows: images, columns: sentences), MMC4 semantics."""
    matrix = np.asarray(sim, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"a similarity matrix has two dimensions, got shape {matrix.shape}")
    n_images, n_sentences = matrix.shape
    if n_images == 0:
        return []
    if n_sentences == 0:
        raise ValueError(f"{n_images} images and no sentence to place them at")
    if not np.isfinite(matrix).all():
        raise ValueError("the similarity matrix holds NaN or infinite values")
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    chosen = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    return [chosen[i] if i in chosen else int(np.argmax(matrix[i])) for i in range(n_images)]
