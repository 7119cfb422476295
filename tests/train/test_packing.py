"""Packing: several samples in one row give the same summed loss and gradients as one by one; with
positions not reset or attention crossing samples they do not. Accumulation: 2 x 2 = 1 x 4."""

from __future__ import annotations

import pytest
import torch
from train_fixtures import mixed_samples

from polyvlm.model.tiny import tiny_model
from polyvlm.train.data.packing import block_diagonal_mask, collate, pack_rows
from polyvlm.train.data.tokenize import tokenize_sample
from polyvlm.train.loss import micro_batch_loss
from polyvlm.train.segment_attention import SEGMENTS, row_segments, use_lm_attention


@pytest.fixture(scope="module")
def tokenized(processor):
    return [tokenize_sample(s, processor, 4096) for s in mixed_samples()]


@pytest.fixture(scope="module")
def model(tokenizer, processor, tokenized):
    """The tiny model after a few steps on the samples: a random one predicts nearly uniformly, so
    its loss barely depends on context and a broken mask would hide in rounding."""
    model = tiny_model(tokenizer, seed=0).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    for _ in range(8):
        for mb in [collate([s], pad, 4096, packing=False) for s in tokenized]:
            micro_batch_loss(model, mb, n)[0].backward()
        opt.step()
        opt.zero_grad()
    return model


def loss_and_grads(model, batches, normaliser, mask_from_positions=False, segments=False):
    model.zero_grad()
    total = 0.0
    for mb in batches:
        loss, loss_sum = micro_batch_loss(model, mb, normaliser, mask_from_positions, segments=segments)
        loss.backward()
        total += loss_sum
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    return total, grads


def assert_grads_close(a, b, rtol=1e-4, atol=1e-6):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=rtol, atol=atol, msg=lambda m, n=name: f"{n}: {m}")


def grads_differ(a, b) -> float:
    return max(float((a[n] - b[n]).abs().max() / (b[n].abs().max() + 1e-12)) for n in a)


def test_packed_equals_one_by_one_and_controls_differ(model, processor, tokenized):
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    packed = collate(tokenized, pad, 4096, packing=True)
    assert packed.inputs["input_ids"].shape[0] == 1 and packed.padding == 0
    singles = [collate([s], pad, 4096, packing=False) for s in tokenized]
    loss_packed, g_packed = loss_and_grads(model, [packed], n)
    loss_single, g_single = loss_and_grads(model, singles, n)
    assert loss_packed == pytest.approx(loss_single, rel=1e-5)
    assert_grads_close(g_packed, g_single)

    # negative control: one causal mask over the whole row, so samples see each other
    crossing = collate(tokenized, pad, 4096, packing=True)
    crossing.inputs["seq_ids"] = torch.zeros_like(crossing.inputs["seq_ids"])
    loss_x, g_x = loss_and_grads(model, [crossing], n)
    assert abs(loss_x - loss_single) > 1e-3 * abs(loss_single)
    assert grads_differ(g_x, g_single) > 1e-2


def test_positions_mark_the_samples_when_no_mask_is_given(model, processor, tokenized):
    """The FlashAttention-varlen path: no mask, samples found where the position ids restart."""
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    singles = [collate([s], pad, 4096, packing=False) for s in tokenized]
    loss_single, g_single = loss_and_grads(model, singles, n)
    packed = collate(tokenized, pad, 4096, packing=True)
    loss_packed, g_packed = loss_and_grads(model, [packed], n, mask_from_positions=True)
    assert loss_packed == pytest.approx(loss_single, rel=1e-5)
    assert_grads_close(g_packed, g_single)
    # negative control: positions not reset -> one long sequence, samples attend across
    packed.inputs["position_ids"] = torch.arange(packed.inputs["input_ids"].shape[1])[None]
    loss_nr, g_nr = loss_and_grads(model, [packed], n, mask_from_positions=True)
    assert abs(loss_nr - loss_single) > 1e-3 * abs(loss_single)
    assert grads_differ(g_nr, g_single) > 1e-2


@pytest.fixture
def segments_model(model):
    """The module's model with the per-sample attention in its LM (put back to sdpa afterwards)."""
    use_lm_attention(model, SEGMENTS)
    yield model
    use_lm_attention(model, "sdpa")


def test_per_sample_attention_equals_one_by_one_and_controls_differ(segments_model, processor, tokenized):
    """The CPU training default: one causal sdpa call per packed sample, no mask at all."""
    model = segments_model
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    singles = [collate([s], pad, 4096, packing=False) for s in tokenized]
    loss_single, g_single = loss_and_grads(model, singles, n, segments=True)
    packed = collate(tokenized, pad, 4096, packing=True)
    loss_packed, g_packed = loss_and_grads(model, [packed], n, segments=True)
    assert loss_packed == pytest.approx(loss_single, rel=1e-5)
    assert_grads_close(g_packed, g_single)
    # padded rows (a padding run after each sample) and rows of two packed samples each: the same again
    padded = collate(tokenized, pad, 4096, packing=False)
    assert padded.padding > 0
    pairs = collate(tokenized, pad, 2 * max(len(s.input_ids) for s in tokenized), packing=True)
    assert 1 < pairs.inputs["input_ids"].shape[0] < len(tokenized)
    for mb in (padded, pairs):
        loss, grads = loss_and_grads(model, [mb], n, segments=True)
        assert loss == pytest.approx(loss_single, rel=1e-5)
        assert_grads_close(grads, g_single)
    # and the mask path on the same model agrees (the kernel changed, not the maths)
    use_lm_attention(model, "sdpa")
    loss_mask, g_mask = loss_and_grads(model, [packed], n)
    use_lm_attention(model, SEGMENTS)
    assert loss_mask == pytest.approx(loss_single, rel=1e-5)
    assert_grads_close(g_mask, g_single)

    # negative control: the row's samples taken as one segment, so they attend across
    crossing = collate(tokenized, pad, 4096, packing=True)
    crossing.inputs["seq_ids"] = torch.zeros_like(crossing.inputs["seq_ids"])
    loss_x, g_x = loss_and_grads(model, [crossing], n, segments=True)
    assert abs(loss_x - loss_single) > 1e-3 * abs(loss_single)
    assert grads_differ(g_x, g_single) > 1e-2


def test_row_segments_are_runs_of_one_sample():
    seq = torch.tensor([[0, 0, 1, 1, 1, -1], [2, 2, 2, 2, 2, 2]])
    assert row_segments(seq) == [[(0, 2), (2, 5), (5, 6)], [(0, 6)]]


def test_padded_rows_equal_packed_rows(model, processor, tokenized):
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    padded = collate(tokenized, pad, 4096, packing=False)
    assert padded.inputs["input_ids"].shape[0] == 4 and padded.padding > 0
    loss_padded, g_padded = loss_and_grads(model, [padded], n)
    loss_packed, g_packed = loss_and_grads(model, [collate(tokenized, pad, 4096, packing=True)], n)
    assert loss_padded == pytest.approx(loss_packed, rel=1e-5)
    assert_grads_close(g_padded, g_packed)


def test_two_accumulated_micro_batches_equal_one_batch_of_four(model, processor, tokenized):
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    whole = [collate(tokenized, pad, 4096, packing=True)]
    halves = [
        collate(tokenized[:2], pad, 4096, packing=True),
        collate(tokenized[2:], pad, 4096, packing=True),
    ]
    loss_1, g_1 = loss_and_grads(model, whole, n)
    loss_2, g_2 = loss_and_grads(model, halves, n)
    assert loss_1 == pytest.approx(loss_2, rel=1e-5)
    assert_grads_close(g_1, g_2)
    # a per-micro-batch mean (the common mistake) weighs tokens differently: not the same gradient
    model.zero_grad()
    for mb in halves:
        micro_batch_loss(model, mb, mb.supervised)[0].div(2).backward()
    wrong = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    assert grads_differ(wrong, g_1) > 1e-2


def test_balanced_rows_and_mask_shape():
    assert pack_rows([5, 4, 3, 2], 8, True) == [[0, 3], [1, 2]]  # balanced: 7 and 7
    assert pack_rows([6, 6, 6], 8, True) == [[0], [1], [2]]  # nothing fits beside another
    assert pack_rows([2, 2, 2], 8, True) == [[0, 1, 2]]
    assert pack_rows([5, 4], 8, False) == [[0], [1]]
    seq = torch.tensor([[0, 0, 1, -1]])
    allowed = block_diagonal_mask(seq, torch.float32)[0, 0] == 0
    expected = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    assert torch.equal(allowed, expected)  # a boolean layout, not a computed float


@pytest.mark.parametrize("segments", [False, True], ids=["mask", "segments"])
def test_gradient_checkpointing_gives_the_same_gradients(tokenizer, processor, tokenized, segments):
    """On CPU, both attention paths: the segments argument survives the recomputation in backward."""
    pad = processor.tokenizer.pad_token_id
    n = sum(s.supervised for s in tokenized)
    mb = [collate(tokenized, pad, 4096, packing=True)]
    plain = tiny_model(tokenizer, seed=2).train()
    checkpointed = tiny_model(tokenizer, seed=2).train()
    checkpointed.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if segments:
        use_lm_attention(plain, SEGMENTS)
        use_lm_attention(checkpointed, SEGMENTS)
    loss_a, g_a = loss_and_grads(plain, mb, n, segments=segments)
    loss_b, g_b = loss_and_grads(checkpointed, mb, n, segments=segments)
    assert loss_b == pytest.approx(loss_a, rel=1e-6)
    assert_grads_close(g_b, g_a)
