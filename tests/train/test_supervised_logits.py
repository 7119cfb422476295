"""Supervised-only chunked logits: the same summed loss and gradients as the full logits and autograd's
cross-entropy (issue 22), in several chunks with a ragged last one; a wrong gather is caught."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from train_fixtures import mixed_samples

from polyvlm.model import supervised_loss
from polyvlm.model.supervised_loss import supervised_cross_entropy
from polyvlm.model.tiny import tiny_model
from polyvlm.train.data.packing import collate
from polyvlm.train.data.tokenize import tokenize_sample
from polyvlm.train.loss import micro_batch_loss
from polyvlm.train.segment_attention import SEGMENTS, use_lm_attention

# float32 on CPU: the chunked sums differ from autograd's only by the order of additions.
RTOL, ATOL = 1e-5, 1e-7


@pytest.fixture(scope="module")
def packed(processor):
    tokenized = [tokenize_sample(s, processor, 4096) for s in mixed_samples()]
    return collate(tokenized, processor.tokenizer.pad_token_id, 4096, packing=True)


@pytest.fixture(scope="module")
def trained(tokenizer, packed):
    """A tiny model after a few steps: a random one predicts near uniformly and would hide errors."""
    model = tiny_model(tokenizer, seed=0).train()
    use_lm_attention(model, SEGMENTS)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(5):
        micro_batch_loss(model, packed, packed.supervised, segments=True)[0].backward()
        opt.step()
        opt.zero_grad()
    return model


def loss_and_grads(model, mb, **kwargs) -> tuple[float, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss, loss_sum = micro_batch_loss(model, mb, mb.supervised, segments=True, **kwargs)
    loss.backward()
    return loss_sum, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_chunked_loss_and_grads_equal_full_logits(trained, packed, monkeypatch):
    monkeypatch.setattr(supervised_loss, "CHUNK_ROWS", 7)  # many chunks, the last one ragged
    assert packed.supervised % 7 != 0 and packed.supervised > 3 * 7
    full, full_grads = loss_and_grads(trained, packed, full_logits=True)
    chunked, chunked_grads = loss_and_grads(trained, packed)
    assert chunked == pytest.approx(full, rel=RTOL)
    assert chunked_grads.keys() == full_grads.keys()
    # the gradient reaches the head, the LM and, through the image tokens, the connector and the tower
    assert {n.split(".")[0] for n in chunked_grads} == {"language_model", "connector", "vision_tower"}
    assert "language_model.lm_head.weight" in chunked_grads
    for name, g in full_grads.items():
        torch.testing.assert_close(
            chunked_grads[name], g, rtol=1e-4, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}"
        )


def test_a_wrong_gather_is_caught(trained, packed, monkeypatch):
    """Negative control: hidden states gathered one position late give a different loss and head gradient."""
    full, full_grads = loss_and_grads(trained, packed, full_logits=True)
    real = supervised_cross_entropy

    def off_by_one(hidden, head, targets, chunk=None):
        return real(torch.roll(hidden, 1, dims=0), head, targets, chunk)

    monkeypatch.setattr("polyvlm.model.modeling.supervised_cross_entropy", off_by_one)
    wrong, wrong_grads = loss_and_grads(trained, packed)
    assert abs(wrong - full) > 100 * RTOL * abs(full)
    head = "language_model.lm_head.weight"
    assert not torch.allclose(wrong_grads[head], full_grads[head], rtol=1e-4, atol=1e-6)


def test_function_equals_autograd_with_a_frozen_head():
    """On its own: loss and the hidden states' gradient; a frozen head gets no gradient and none is computed."""
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=False)
    hidden = torch.randn(23, 16, requires_grad=True)
    targets = torch.randint(0, 50, (23,))
    ref = F.cross_entropy(head(hidden), targets, reduction="sum")
    (ref * 0.5).backward()
    ref_h, ref_w = hidden.grad.clone(), head.weight.grad.clone()
    hidden.grad, head.weight.grad = None, None
    loss = supervised_cross_entropy(hidden, head, targets, chunk=5)
    (loss * 0.5).backward()  # the backward scales the gradients taken in the forward
    torch.testing.assert_close(loss, ref, rtol=RTOL, atol=1e-6)
    torch.testing.assert_close(hidden.grad, ref_h, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(head.weight.grad, ref_w, rtol=1e-5, atol=1e-7)
    head.weight.requires_grad_(False)
    hidden.grad, head.weight.grad = None, None
    supervised_cross_entropy(hidden, head, targets, chunk=5).backward()
    assert head.weight.grad is None
    torch.testing.assert_close(hidden.grad, 2 * ref_h, rtol=1e-5, atol=1e-7)


def test_under_bf16_autocast_the_head_runs_in_bf16_as_before():
    """Autocast (as training on GPU runs): bf16 head products, float32 softmax and head gradient."""
    torch.manual_seed(0)
    head = torch.nn.Linear(32, 300, bias=False)
    hidden = torch.randn(40, 32, requires_grad=True)
    targets = torch.randint(0, 300, (40,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = F.cross_entropy(head(hidden).float(), targets, reduction="sum")
    ref.backward()
    ref_h, ref_w = hidden.grad.clone(), head.weight.grad.clone()
    hidden.grad, head.weight.grad = None, None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = supervised_cross_entropy(hidden, head, targets, chunk=16)
    loss.backward()
    assert head.weight.grad.dtype == torch.float32 and hidden.grad.dtype == torch.float32
    torch.testing.assert_close(loss, ref, rtol=1e-3, atol=1e-3)
    # bf16 operands round the two paths' products differently: a bf16 tolerance
    torch.testing.assert_close(hidden.grad, ref_h, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(head.weight.grad, ref_w, rtol=2e-2, atol=2e-2)
