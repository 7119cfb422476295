"""The model: forward with and without images, gradients, save/load, generate with KV cache, batches, parts."""

from __future__ import annotations

import pytest
import torch
from model_inputs import noise_image
from transformers import AutoModelForImageTextToText, AutoProcessor

import polyvlm.model.auto  # noqa: F401 -- the Auto registration under test
from polyvlm.model.modeling import ModelLoadError, PolyVLMForConditionalGeneration
from polyvlm.model.tiny import TINY_TEXT, TINY_VISION, tiny_model

PROMPT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


def chat(*parts: str) -> str:
    return PROMPT.format("".join(parts))


def test_gradients_reach_vision_connector_and_lm(model, processor):
    model.train()
    try:
        inputs = processor(
            text=chat("<image>", "何が見えますか"), images=[noise_image(500, 300)], max_tiles=2
        )
        out = model(**inputs, labels=inputs["input_ids"])
        model.zero_grad()
        out.loss.backward()
        used_layer = len(model.vision_tower.encoder.layers) - 3
        for name, param in [
            ("patch embedding", model.vision_tower.embeddings.patch_embedding.weight),
            ("first vision layer", model.vision_tower.encoder.layers[0].mlp.fc1.weight),
            ("third-to-last vision layer", model.vision_tower.encoder.layers[used_layer].mlp.fc2.weight),
            ("attention pool", model.connector.attention_pool.q_proj.weight),
            ("swiglu", model.connector.projection.w3.weight),
            ("lm embeddings", model.get_input_embeddings().weight),
            ("lm block", model.language_model.model.layers[0].self_attn.q_proj.weight),
            ("lm head", model.get_output_embeddings().weight),
        ]:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    finally:
        model.zero_grad()
        model.eval()


def test_image_tokens_never_count_in_the_loss(model, processor):
    inputs = processor(text=chat("<image>", "説明"), images=[noise_image(200, 200)], max_tiles=1)
    labels = inputs["input_ids"].clone()
    masked = labels.masked_fill(model._is_image_token(labels), -100)
    text = (~model._is_image_token(labels)).nonzero()[-1, 1]  # the last text position
    changed = labels.clone()
    changed[0, text] = 100  # another target for a text token
    with torch.no_grad():
        loss, loss_masked, loss_changed = (model(**inputs, labels=x).loss for x in (labels, masked, changed))
    # two forwards of one tiny fp32 model on one input: only kernel rounding (~1e-7) may differ
    torch.testing.assert_close(loss, loss_masked, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(loss, loss_changed, atol=1e-6, rtol=1e-6)  # control: text labels do count


def test_image_features_are_added_to_the_im_patch_embedding(model, processor):
    inputs = processor(text=chat("<image>", "説明"), images=[noise_image(200, 200)], max_tiles=1)
    row = model.get_input_embeddings().weight[model.config.image_patch_token_id]
    saved = row.detach().clone()
    try:
        with torch.no_grad():
            before = model(**inputs, logits_to_keep=1).logits
            row.add_(1.0)  # were the features to replace the embedding, this row would not matter
            after = model(**inputs, logits_to_keep=1).logits
    finally:
        with torch.no_grad():
            row.copy_(saved)
    assert not torch.allclose(before, after, atol=1e-4)


def test_images_change_the_output_and_text_only_prompts_run(model, processor):
    text = chat("<image>", "これは何？")
    with torch.no_grad():
        a = model(
            **processor(text=text, images=[noise_image(400, 300, seed=1)], max_tiles=2), logits_to_keep=1
        )
        b = model(
            **processor(text=text, images=[noise_image(400, 300, seed=2)], max_tiles=2), logits_to_keep=1
        )
        plain = model(**processor(text=chat("こんにちは")), logits_to_keep=1)
    # well above kernel rounding (~1e-7), so only a real dependence on the image can pass
    assert not torch.allclose(a.logits, b.logits, atol=1e-3, rtol=0)
    assert plain.logits.shape == (1, 1, len(processor.tokenizer))


def test_mismatched_inputs_are_refused_with_a_message(model, processor):
    inputs = processor(text=chat("<image>"), images=[noise_image(300, 300)], max_tiles=1)
    with pytest.raises(ValueError, match="no pixel_values"):
        model(input_ids=inputs["input_ids"])
    with pytest.raises(ValueError, match="<im_patch> tokens"):
        ids = inputs["input_ids"]
        first_patch = int((ids[0] == model.config.image_patch_token_id).nonzero()[0])
        one_patch_less = torch.cat([ids[:, :first_patch], ids[:, first_patch + 1 :]], dim=1)
        model(
            input_ids=one_patch_less, pixel_values=inputs["pixel_values"], image_grids=inputs["image_grids"]
        )


def test_save_and_load_round_trip_exactly_through_auto(model, processor, tmp_path):
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    loaded_proc = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded) is PolyVLMForConditionalGeneration
    before, after = model.state_dict(), loaded.state_dict()
    # tensors saved and loaded unchanged: exact equality is guaranteed here
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert loaded.get_output_embeddings().weight.data_ptr() != loaded.get_input_embeddings().weight.data_ptr()
    text, image = chat("<image>", "質問"), noise_image(700, 500)
    a, b = processor(text=text, images=[image]), loaded_proc(text=text, images=[image])
    assert a.keys() == b.keys()
    for key in ("input_ids", "attention_mask", "image_grids"):  # integers: exact
        assert torch.equal(a[key], b[key]), key
    torch.testing.assert_close(a["pixel_values"], b["pixel_values"], atol=1e-6, rtol=0)  # same resize code
    with torch.no_grad():
        expected = model(**a, logits_to_keep=1).logits
        got = loaded(**b, logits_to_keep=1).logits
        # Equal weights, yet CPU kernels may round differently with memory alignment (~1e-7 seen on
        # the logits of this tiny fp32 model); 1e-5 is far above that and far below a real error.
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        # negative control: a 1% change of one loaded weight must fail the same check
        norm = loaded.language_model.model.norm.weight
        norm.mul_(1.01)
        perturbed = loaded(**b, logits_to_keep=1).logits
        norm.div_(1.01)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(perturbed, expected, atol=1e-5, rtol=1e-5)


def test_greedy_generate_is_deterministic_and_the_same_without_kv_cache(model, processor):
    inputs = processor(text=chat("<image>", "説明してください"), images=[noise_image(900, 600)], max_tiles=4)
    calls = []
    hook = model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    try:
        cached = model.generate(**inputs, max_new_tokens=6, do_sample=False, min_new_tokens=6)
        encoded_with_cache = len(calls)
        again = model.generate(**inputs, max_new_tokens=6, do_sample=False, min_new_tokens=6)
        calls.clear()
        uncached = model.generate(
            **inputs, max_new_tokens=6, do_sample=False, min_new_tokens=6, use_cache=False
        )
    finally:
        hook.remove()
    assert encoded_with_cache == 1  # images are encoded once, on the first step
    assert len(calls) == 6  # without a cache every step re-reads the whole prompt, images included
    assert torch.equal(cached, again) and torch.equal(cached, uncached)
    assert cached.shape[1] == inputs["input_ids"].shape[1] + 6


def test_a_padded_batch_of_mixed_image_counts_equals_each_sample_alone(model, processor):
    samples = [
        (
            chat("<image>", "左", "<image>", "右を比べて"),
            [noise_image(500, 300, 1), noise_image(100, 700, 2)],
        ),
        (chat("画像なしの質問です。少し長めのテキスト。"), []),
        (chat("<image>", "これは？"), [noise_image(640, 480, 3)]),
    ]
    batch = processor(
        text=[t for t, _ in samples], images=[im for _, ims in samples for im in ims], max_tiles=3
    )
    assert batch["attention_mask"].sum(1).tolist() != [batch["input_ids"].shape[1]] * 3  # really padded
    with torch.no_grad():
        batched = model(**batch, output_hidden_states=True, logits_to_keep=1)
        generated = model.generate(**batch, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    for i, (text, images) in enumerate(samples):
        alone = processor(text=text, images=images or None, max_tiles=3)
        n = alone["input_ids"].shape[1]
        with torch.no_grad():
            single = model(**alone, output_hidden_states=True, logits_to_keep=1)
            single_gen = model.generate(**alone, max_new_tokens=4, min_new_tokens=4, do_sample=False)
        hidden = batched.hidden_states[-1][i, -n:]
        # padding changes matmul shapes, so kernels may sum in another order; 1e-4 on a tiny fp32 model
        assert torch.allclose(hidden, single.hidden_states[-1][0], atol=1e-4), f"sample {i}"
        assert torch.allclose(batched.logits[i], single.logits[0], atol=1e-4)
        assert generated[i, -4:].tolist() == single_gen[0, -4:].tolist()


def test_mlp_connector_uses_the_last_layer_without_pooling(tokenizer):
    from polyvlm.model.tiny import tiny_processor

    mlp = tiny_model(tokenizer, connector="mlp")
    proc = tiny_processor(tokenizer, pool_size=mlp.config.pool_size)
    assert mlp.config.vision_feature_layers == [-1] and mlp.config.pool_size == 1
    inputs = proc(text=chat("<image>"), images=[noise_image(644, 378)])
    with torch.no_grad():
        out = mlp(**inputs, logits_to_keep=1)
    patches = int((inputs["input_ids"] == mlp.config.image_patch_token_id).sum())
    assert patches == 27 * 27 + 27 * 46  # thumbnail + the 1x2 tiles keeping 23 + 23 columns, unpooled
    assert torch.isfinite(out.logits).all()


def test_feature_layers_outside_the_tower_are_refused():
    from polyvlm.model.configuration import PolyVLMConfig

    with pytest.raises(ValueError, match="outside"):
        PolyVLMConfig(
            vision_config=dict(TINY_VISION), text_config=dict(TINY_TEXT), vision_feature_layers=[-12]
        )


@pytest.fixture(scope="module")
def parts(tmp_path_factory, tokenizer):
    """A full SigLIP checkpoint (text tower too, as on the hub) and a tied Qwen3 with its tokenizer."""
    from transformers import Qwen3Config, Qwen3ForCausalLM, SiglipConfig, SiglipModel

    from polyvlm.model.tokenizer import build_qwen_tokenizer

    root = tmp_path_factory.mktemp("parts")
    torch.manual_seed(1)
    vision = {k: v for k, v in TINY_VISION.items() if k not in ("model_type", "vision_use_head")}
    text_tower = {
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
    }
    SiglipModel(SiglipConfig(vision_config=vision, text_config=text_tower)).save_pretrained(root / "siglip")
    qwen_tokenizer = build_qwen_tokenizer(with_image_tokens=False)
    text = {k: v for k, v in TINY_TEXT.items() if k != "model_type"}
    lm = Qwen3ForCausalLM(Qwen3Config(**text, vocab_size=len(qwen_tokenizer), tie_word_embeddings=True))
    lm.save_pretrained(root / "qwen3")
    qwen_tokenizer.save_pretrained(root / "qwen3")
    return root


def test_from_parts_joins_local_checkpoints(parts):
    from transformers import AutoModelForCausalLM, SiglipVisionModel

    vlm = PolyVLMForConditionalGeneration.from_parts(vision=parts / "siglip", text=parts / "qwen3")
    siglip = SiglipVisionModel.from_pretrained(parts / "siglip")
    lm = AutoModelForCausalLM.from_pretrained(parts / "qwen3")
    assert torch.equal(
        vlm.vision_tower.encoder.layers[3].mlp.fc1.weight, siglip.encoder.layers[3].mlp.fc1.weight
    )
    old = lm.get_input_embeddings().weight
    embed, head = vlm.get_input_embeddings().weight, vlm.get_output_embeddings().weight
    # resized for the four image tokens
    assert embed.shape[0] == old.shape[0] + 4 == vlm.config.text_config.vocab_size
    assert torch.equal(embed[: old.shape[0]], old) and torch.equal(head[: old.shape[0]], old)
    assert head.data_ptr() != embed.data_ptr() and not vlm.config.text_config.tie_word_embeddings  # untied
    assert vlm.config.image_patch_token_id == old.shape[0] + 3
    assert not hasattr(vlm.vision_tower, "head")  # SigLIP's pooling head is replaced by the connector


def test_from_parts_explains_a_missing_checkpoint(tmp_path):
    with pytest.raises(ModelLoadError, match="could not load the vision tower config"):
        PolyVLMForConditionalGeneration.from_parts(vision=tmp_path / "missing", text=tmp_path / "missing")


def test_from_parts_refuses_a_vision_tower_it_cannot_tile(parts):
    with pytest.raises(ModelLoadError, match="fixed-resolution SigLIP"):
        PolyVLMForConditionalGeneration.from_parts(vision=parts / "qwen3", text=parts / "qwen3")
