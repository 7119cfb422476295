"""Images to sentences: MMC4's linear assignment against brute force, and the CLIP path with a tiny random CLIP."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from polyvlm.core.records import Document, ImageRef, Pair
from polyvlm.core.step import Drop
from polyvlm.image.assign_images import AssignImages, DomPlacement
from polyvlm.image.assigned_similarity import MinAssignedSimilarity
from polyvlm.image.assignment import assign_images
from polyvlm.image.clip_step import ClipScore
from polyvlm.image.sentence_similarity import ImageSentenceSimilarity
from test_image_scores import IMAGES, tiny_clip  # noqa: F401  (a fixture: a tiny random CLIP saved to disk)


def _brute_force(sim: np.ndarray) -> float:
    """The best total similarity of a one-to-one matching of min(n, m) images and sentences."""
    n, m = sim.shape
    if n <= m:
        return max(sum(sim[i, cols[i]] for i in range(n)) for cols in itertools.permutations(range(m), n))
    return max(sum(sim[rows[j], j] for j in range(m)) for rows in itertools.permutations(range(n), m))


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (4, 6), (5, 3), (6, 2), (4, 4)])
def test_assignment_equals_the_brute_force_optimum(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        sim = rng.uniform(-0.2, 0.6, size=shape)
        chosen = assign_images(sim)
        n, m = shape
        assert len(chosen) == n and all(0 <= j < m for j in chosen)
        if n <= m:  # every image its own sentence, and the sum is the optimum
            assert len(set(chosen)) == n
            assert sum(sim[i, j] for i, j in enumerate(chosen)) == pytest.approx(_brute_force(sim), abs=1e-12)
        else:  # every sentence gets one image by the optimum; the images left over go to their argmax
            assert set(chosen) == set(range(m))
            best = _brute_force(sim)
            matched = [i for i in range(n) if sum(1 for k in range(n) if chosen[k] == chosen[i]) == 1]
            # the optimal one-to-one part: a matching of all sentences whose sum equals brute force
            found = False
            for rows in itertools.permutations(range(n), m):
                if all(chosen[rows[j]] == j for j in range(m)):
                    if abs(sum(sim[rows[j], j] for j in range(m)) - best) < 1e-12:
                        found = True
                        others = set(range(n)) - set(rows)
                        assert all(chosen[i] == int(np.argmax(sim[i])) for i in others)
                        break
            assert found, (sim, chosen, matched)


def test_mmc4_example_and_bad_matrices():
    # mmc4's linear_assignment test: three images, two sentences: 1 -> 0 and 2 -> 1 by the optimum
    sim = np.array([[1.0, 1.0], [1.5, 1.0], [3.0, 2.6]])
    assert assign_images(sim) == [0, 0, 1]  # image 0 left over: its argmax (the first of equal ones)
    assert assign_images(np.zeros((0, 3))) == []
    with pytest.raises(ValueError, match="no sentence"):
        assign_images(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="NaN"):
        assign_images([[0.1, float("nan")]])
    # a negative control: a greedy per-image argmax is not the assignment
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert assign_images(sim) == [1, 0]


def _doc(sentences: list[str], images: list[bytes | None]) -> Document:
    return Document(
        id="d", language="ja", texts=list(sentences),
        images=[ImageRef(url=f"https://example.org/{k}.jpg", data=d, segment_index=0) for k, d in enumerate(images)],
    )  # fmt: skip


def _similarity_step(model: str, **params) -> ImageSentenceSimilarity:
    step = ImageSentenceSimilarity(model=model, **params)
    step.check()
    step.setup()
    return step


def test_clip_matrix_per_document_is_the_pairwise_clip_score(tiny_clip):  # noqa: F811
    photos = [Path(p).read_bytes() for p in IMAGES[:3]]
    sentences = ["湖の桟橋と山", "a man ironing on a taxi", "道路標識 Yuyuan Rd.", "白黒のベビーシート"]
    step = _similarity_step(tiny_clip, min_similarity=-1.0)
    doc = step.apply_batch([_doc(sentences, photos)])[0]
    matrix = np.array(doc.metadata["similarity_matrix"])
    assert matrix.shape == (3, 4) and np.all(np.abs(matrix) <= 1.0)
    # each cell equals clip_score of that (image, sentence) as a pair: an independent path through the scorer
    scorer = ClipScore(model=tiny_clip)
    scorer.setup()
    pairs = [
        Pair(id=f"{i}-{j}", text=s, image=ImageRef(data=photos[i]))
        for i in range(3)
        for j, s in enumerate(sentences)
    ]
    scored = scorer.apply_batch(pairs)
    expected = np.array([p.image.scores["clip"] for p in scored]).reshape(3, 4)
    assert matrix == pytest.approx(expected, abs=1e-5)
    assert len({round(float(x), 6) for x in matrix.ravel()}) > 6  # real, varied scores
    # assignment: each image before its own sentence, matched_sim from the matrix
    placed = AssignImages().apply(doc)
    chosen = [im.segment_index for im in placed.images]
    assert chosen == assign_images(matrix) and len(set(chosen)) == 3
    for k, im in enumerate(placed.images):
        assert im.scores["matched_sim"] == pytest.approx(matrix[k, chosen[k]], abs=1e-12)
    assert placed.metadata["placement"] == "assigned"
    # the assigned-pair rule: a floor above the lowest assigned similarity drops the document, below keeps it
    lowest = min(im.scores["matched_sim"] for im in placed.images)
    assert isinstance(MinAssignedSimilarity(min_similarity=lowest + 1e-6).apply(placed), Drop)
    assert MinAssignedSimilarity(min_similarity=lowest - 1e-6).apply(placed) is placed


def test_images_below_the_best_sentence_floor_leave_with_their_matrix_rows(tiny_clip):  # noqa: F811
    photos = [Path(p).read_bytes() for p in IMAGES[:3]]
    sentences = ["湖の桟橋と山", "a man ironing on a taxi"]
    full = _similarity_step(tiny_clip, min_similarity=-1.0).apply_batch([_doc(sentences, photos)])[0]
    best = [max(row) for row in full.metadata["similarity_matrix"]]
    floor = (
        sorted(best)[0] + sorted(best)[1]
    ) / 2  # the image with the lowest best score goes, the others stay
    step = _similarity_step(tiny_clip, min_similarity=floor)
    doc = step.apply_batch([_doc(sentences, photos + [b"not an image"])])[0]
    assert len(doc.images) == 2 and len(doc.metadata["similarity_matrix"]) == 2
    kept_rows = [r for r, b in zip(full.metadata["similarity_matrix"], best, strict=True) if b >= floor]
    assert np.array(doc.metadata["similarity_matrix"]) == pytest.approx(np.array(kept_rows), abs=1e-5)
    reasons = sorted(d["reason"] for d in doc.metadata["image_drops"])
    assert reasons == ["clip_unloadable_image", "low_sentence_similarity"]
    assert step.metrics() == {
        "images_dropped:clip_unloadable_image": 1.0,
        "images_dropped:low_sentence_similarity": 1.0,
    }
    # the document goes on: assignment works on what is left; a pair is not a document
    assert len({im.segment_index for im in AssignImages().apply(doc).images}) == 2
    assert step.apply_batch([Pair(id="p")])[0].reason == "not_a_document"


def test_dom_placement_keeps_page_positions_and_assignment_needs_a_matrix():
    doc = _doc(["一。", "二。", "三。"], [b"x", b"y", b"z"])
    doc.images[1].segment_index, doc.images[2].segment_index = 3, None
    placed = DomPlacement().apply(doc)
    assert [im.segment_index for im in placed.images] == [0, 3]
    assert placed.metadata["placement"] == "dom"
    assert placed.metadata["image_drops"][0]["reason"] == "outside_main_text"
    assert AssignImages().apply(_doc(["一。"], [b"x"])).reason == "no_similarity_matrix"
    assert MinAssignedSimilarity().apply(placed).reason == "not_assigned"


def test_missing_clip_model_names_the_dom_mode():
    from polyvlm.core.errors import RecipeError

    with pytest.raises(RecipeError, match="dom_placement"):
        ImageSentenceSimilarity(model="polyvlm-test/no-such-clip").check()
