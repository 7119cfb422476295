"""The dataloader: the same micro-batches with worker processes as without, bad samples dropped with
their id, a dummy image only where a micro-batch has none."""

from __future__ import annotations

import numpy as np
from train_fixtures import mixed_samples

from polyvlm.train.data.loader import MicroBatches, micro_batch_loader, rank_micro_batches
from polyvlm.train.data.mixture import Mixture
from polyvlm.train.data.sample import Segment, TrainSample


def dataset(processor, samples, micro=2, needs_vision=True):
    mix = Mixture([len(samples)], np.array([1.0]), 4, seed=0)
    plan = list(rank_micro_batches(mix, 2, 0, 1, micro))
    return MicroBatches([samples], processor, 4096, True, None, needs_vision), plan


def test_workers_give_the_same_micro_batches_in_the_same_order(processor):
    ds, plan = dataset(processor, mixed_samples())
    inline = list(micro_batch_loader(ds, plan, 0))
    workers = list(micro_batch_loader(ds, plan, 2))
    assert [mb.sample_ids for mb in inline] == [mb.sample_ids for mb in workers]
    for a, b in zip(inline, workers, strict=True):
        assert a.inputs.keys() == b.inputs.keys()
        assert a.inputs["input_ids"].tolist() == b.inputs["input_ids"].tolist()
    assert list(micro_batch_loader(ds, plan[2:], 0))[0].sample_ids == inline[2].sample_ids  # resume mid-stage


def test_bad_samples_are_dropped_with_their_id_and_text_only_batches_get_a_dummy_image(processor):
    text = mixed_samples()[2]
    broken = TrainSample("broken-7", "s", [Segment("<image>", False, [b"not an image"]), Segment("x", True)])
    silent = TrainSample("silent-3", "s", [Segment("no loss here", False)])
    ds, plan = dataset(processor, [text, broken, silent, text], micro=4)
    mb = ds[plan[0]]
    assert set(mb.dropped) == {"broken-7", "silent-3"}
    assert "no supervised token" in mb.dropped["silent-3"]
    assert mb.sample_ids == [text.id, text.id]  # the two good ones stay
    assert "pixel_values" in mb.inputs and mb.tokens < mb.inputs["input_ids"].numel()  # the dummy came along
    ds, plan = dataset(processor, [text] * 4, micro=4, needs_vision=False)
    frozen = ds[plan[0]]
    assert "pixel_values" not in frozen.inputs  # vision and connector frozen: no dummy needed
