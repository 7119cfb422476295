"""Streaming order: the micro-batches are the same with 1 or 4 dataloader workers; two ranks see
disjoint samples and, over a one-pass stage, every sample of every source exactly once."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from stream_fixtures import write_pairs, write_text_jsonl

from polyvlm.train.config import SourceConfig
from polyvlm.train.data.loader import MicroBatches, PlanSampler, micro_batch_loader, rank_micro_batches
from polyvlm.train.data.mixture import Mixture
from polyvlm.train.data.stream import StreamSource, source_index


@pytest.fixture
def sources(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))
    pairs = SourceConfig(name="pairs", format="pairs_webdataset", path=write_pairs(tmp_path / "p", 3, 7))
    text = SourceConfig(name="text", format="text_jsonl", path=write_text_jsonl(tmp_path / "t", 3, 5))
    return [StreamSource(source_index(c)) for c in (pairs, text)]  # 21 and 15 samples


def test_one_and_four_workers_give_the_same_micro_batches(sources, processor):
    def mixture():  # a small window: the shuffle crosses shards and windows
        return Mixture([len(s) for s in sources], np.array([0.6, 0.4]), 8, seed=5, window=5)

    dataset = MicroBatches(sources, processor, 4096, True, 1, needs_vision=True)
    runs = {}
    for workers in (1, 4):
        plan = PlanSampler(mixture, None, steps=6, rank=0, world=1, micro=2)
        runs[workers] = list(micro_batch_loader(dataset, plan, workers))
    assert len(runs[1]) == 24
    assert [mb.sample_ids for mb in runs[1]] == [mb.sample_ids for mb in runs[4]]
    for a, b in zip(runs[1], runs[4], strict=True):
        assert a.inputs["input_ids"].tolist() == b.inputs["input_ids"].tolist()
        assert a.inputs["pixel_values"].shape == b.inputs["pixel_values"].shape
    seen = Counter(i for mb in runs[1] for i in mb.sample_ids)
    assert len(seen) > 21  # both sources, more than one shard's worth, each sample at most twice (48 / 36)
    assert max(seen.values()) <= 2


def test_two_ranks_see_disjoint_samples_and_every_sample_once_per_pass(sources):
    sizes = [len(s) for s in sources]
    passes = list(sizes)  # epochs: 1 per source
    ids = {}
    for rank in (0, 1):
        mixture = Mixture(sizes, np.array(sizes) / sum(sizes), 4, seed=2, passes=passes, window=6)
        slots = [x for mb in rank_micro_batches(mixture, -(-sum(sizes) // 4), rank, 2, 1) for x in mb]
        ids[rank] = [sources[s][i].id for s, i in slots]
    assert not set(ids[0]) & set(ids[1])
    together = ids[0] + ids[1]
    every = {sources[s][i].id for s in range(2) for i in range(sizes[s])}
    # 37 samples in steps of 4: 36 from the pass, then 3 slots of the last step start the next pass
    assert sorted(together) == sorted(every)  # 36 samples in 9 steps of 4: each once
