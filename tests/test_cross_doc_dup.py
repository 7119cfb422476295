"""cross_doc_dup: the sample mode against a brute force of the same samples, the corpus mode, partitions,
the "more than max_duplicates" edge, merge order, and what happens to documents and pairs."""

from __future__ import annotations

import numpy as np

from polyvlm.core.records import Document, ImageRef, Pair, Provenance
from polyvlm.core.step import Drop
from polyvlm.image.cross_doc_dup import REASON, CrossDocDup, sampling_key
from polyvlm.image.image_drops import IMAGE_DROPS


def near(h: int, bits: int, rng: np.random.Generator) -> int:
    """h with `bits` random bits flipped."""
    for b in rng.choice(64, size=bits, replace=False):
        h ^= 1 << int(b)
    return h


def corpus(n_docs: int, copies: dict[str, int], seed: int = 0) -> list[Document]:
    """Documents of 3 images: unique photos, plus near copies (<= 2 bits apart) of a few 'placeholder' hashes."""
    rng = np.random.default_rng(seed)
    bases = {name: int(rng.integers(0, 2**63)) for name in copies}
    extra = [
        (name, near(bases[name], int(rng.integers(0, 2)), rng))
        for name, n in copies.items()
        for _ in range(n)
    ]
    docs = []
    for d in range(n_docs):
        images = [ImageRef(url=f"u{d}-{i}", phash=f"{int(rng.integers(0, 2**63)):016x}") for i in range(3)]
        docs.append(
            Document(id=f"d{d}", images=images, provenance=Provenance(crawl_date=f"{2020 + d % 2}-05-01"))
        )
    for k, (name, h) in enumerate(extra):
        docs[k % n_docs].images.insert(1, ImageRef(url=f"{name}-{k}", phash=f"{h:016x}"))
    return docs


def run(step: CrossDocDup, docs: list[Document], split: int | None = None) -> list[Document]:
    """observe in two partial states (split at `split`), merge them (second into first), apply to all."""
    states = [step.init_state(), step.init_state()]
    cut = len(docs) // 2 if split is None else split
    for pos, doc in enumerate(docs):
        step.observe(states[pos >= cut], doc, (0, pos, 0))
    state = step.merge(states[1], states[0])
    return [step.apply(state, doc, (0, pos, 0)) for pos, doc in enumerate(docs)]


def urls(docs) -> list[list[str]]:
    return [[im.url for im in d.images] for d in docs]


def test_corpus_mode_removes_images_with_more_than_max_duplicates():
    docs = corpus(20, {"icon": 12, "banner": 11})  # 11 and 10 duplicates each
    out = run(CrossDocDup(mode="corpus", max_duplicates=10), docs)
    kept = {u for d in out for u in (im.url for im in d.images)}
    assert not any(u.startswith("icon") for u in kept)
    assert sum(u.startswith("banner") for u in kept) == 11  # exactly 10 duplicates: not more than 10
    assert sum(len(d.images) for d in out) == 20 * 3 + 11  # every unique photo stays
    drops = [x for d in out for x in d.metadata.get(IMAGE_DROPS, [])]
    assert len(drops) == 12 and {x["reason"] for x in drops} == {REASON}
    assert drops[0]["detail"] == "11 duplicates in the corpus"


def test_sample_mode_equals_a_brute_force_of_the_same_samples():
    docs = corpus(40, {"icon": 30, "ad": 14, "badge": 6}, seed=1)
    step = CrossDocDup(mode="sample", sample_size=25, max_duplicates=4, partition="none", seed=7)
    # the expected verdicts: images ordered by their seeded key, cut into samples of 25, brute-force counts
    images = [
        (sampling_key(7, (0, p, 0), i), int(im.phash, 16), im.url)
        for p, d in enumerate(docs)
        for i, im in enumerate(d.images)
    ]
    images.sort()
    gone = set()
    for start in range(0, len(images), 25):
        sample = images[start : start + 25]
        hashes = np.array([h for _, h, _ in sample], np.uint64)
        counts = (np.bitwise_count(hashes[:, None] ^ hashes[None, :]) <= 5).sum(axis=1) - 1
        gone |= {url for (_, _, url), c in zip(sample, counts, strict=True) if c > 4}
    assert gone  # the samples do catch some copies, and not all of them (icon copies in other samples)
    out = run(step, [Document.from_dict(d.to_dict()) for d in docs])
    removed = {x["url"] for d in out for x in d.metadata.get(IMAGE_DROPS, [])}
    assert removed == gone
    assert all(
        x["detail"].endswith("duplicates in its sample") for d in out for x in d.metadata.get(IMAGE_DROPS, [])
    )
    # the corpus mode on the same documents removes every icon, ad copy, and no badge (5 duplicates)
    out = run(CrossDocDup(mode="corpus", max_duplicates=5), [Document.from_dict(d.to_dict()) for d in docs])
    removed = {x["url"] for d in out for x in d.metadata.get(IMAGE_DROPS, [])}
    assert {u.split("-")[0] for u in removed} == {"icon", "ad"} and len(removed) == 44


def test_partitions_are_sampled_apart_and_merge_order_does_not_matter():
    docs = corpus(20, {"icon": 12})  # the copies spread over the two crawl years: 6 each
    step = CrossDocDup(mode="sample", max_duplicates=5, sample_size=1000)
    by_year = run(step, [Document.from_dict(d.to_dict()) for d in docs])
    assert (
        sum(u.startswith("icon") for d in by_year for u in urls([d])[0]) == 12
    )  # 5 duplicates per year: kept
    one = run(CrossDocDup(mode="sample", max_duplicates=5, sample_size=1000, partition="none"), docs)
    assert sum(u.startswith("icon") for d in one for u in urls([d])[0]) == 0
    a = run(
        CrossDocDup(mode="sample", max_duplicates=2, sample_size=20, seed=3),
        corpus(20, {"icon": 12}),
        split=3,
    )
    b = run(
        CrossDocDup(mode="sample", max_duplicates=2, sample_size=20, seed=3),
        corpus(20, {"icon": 12}),
        split=17,
    )
    assert urls(a) == urls(b)


def test_pairs_are_dropped_and_unhashed_images_left_alone():
    h = "00000000000000ff"
    pairs = [Pair(id=f"p{i}", image=ImageRef(url=f"u{i}", phash=h)) for i in range(3)]
    pairs.append(Pair(id="x", image=ImageRef(url="not-decoded")))
    out = run(CrossDocDup(mode="corpus", max_duplicates=1), pairs)
    assert out[:3] == [Drop(REASON, "2 duplicates in the corpus")] * 3
    assert out[3] is pairs[3]


def test_local_engine_over_two_shards(tmp_path, write_recipe):
    from polyvlm.core.recipe import load_recipe
    from polyvlm.core.records import record_from_json, record_to_json
    from polyvlm.engine.run import run_recipe

    docs = corpus(20, {"icon": 12})  # one icon copy per document (doc_near_dup would merge two in one page)
    docs[0].images.append(ImageRef(url="u0-0-copy", phash=docs[0].images[0].phash, width=10, height=10))
    docs[0].images[0].width, docs[0].images[0].height = 20, 20
    for k, part in enumerate((docs[:5], docs[5:])):
        (tmp_path / f"in{k}.jsonl").write_text("".join(record_to_json(d) + "\n" for d in part))
    recipe = write_recipe(f"""
        name: t
        inputs: ['{tmp_path}/in*.jsonl']
        steps:
          - doc_near_dup: {{}}
          - cross_doc_dup: {{mode: corpus, max_duplicates: 10}}
        outputs: [{{write_jsonl: {{path: docs}}}}]
        """)
    stats = run_recipe(load_recipe(recipe), output=str(tmp_path / "out"), progress=False)
    assert stats["balanced"] and stats["totals"]["kept"] == 20
    lines = [
        x for f in sorted((tmp_path / "out" / "docs").glob("*.jsonl")) for x in f.read_text().splitlines()
    ]
    out = [record_from_json(x) for x in lines]
    kept = [im.url for d in out for im in d.images]
    assert len(kept) == 60 and not any(u.startswith("icon") for u in kept) and "u0-0-copy" not in kept
    reasons = sorted(x["reason"] for d in out for x in d.metadata.get(IMAGE_DROPS, []))
    assert reasons == [REASON] * 12 + ["near_duplicate_in_document"]
