"""convert-jina: a tiny checkpoint in the reference layout (written here, names and shapes from the
reference's modeling_jvlm.py / blocks_jvlm.py) converts, loads through the Auto classes, computes what
the reference's formulas compute with the same tensors, generates, and bad checkpoints are refused."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from model_inputs import noise_image
from safetensors.torch import save_file
from transformers import AutoModelForImageTextToText, AutoProcessor

import polyvlm.model.auto  # noqa: F401 -- the Auto registration the converted directory relies on
from polyvlm.cli import cli
from polyvlm.model.convert_jina import ConversionError, convert_jina
from polyvlm.model.tokenizer import build_qwen_tokenizer

D_V, V_LAYERS, V_HEADS, V_FFN, PATCH, CROP = 32, 10, 2, 64, 14, 378
P_HEADS, P_HEAD_DIM, PROJ = 2, 16, 96
D_L, T_LAYERS, T_HEADS, T_KV, T_HEAD_DIM, T_FFN = 32, 2, 2, 1, 16, 64
VOCAB, EXTRA = 151936, 128
# The reference processor's extra tokens, in its EXTRA_TOKENS order, placed at the embedding's end.
JINA_TOKENS = ["<im_patch>", "<im_start>", "<im_end>", "<im_col>", "<|image|>", "<im_slice>"]

REFERENCE_CONFIG = {
    "model_type": "jvlm",
    "vision_config": {
        "hidden_size": D_V,
        "n_layers": V_LAYERS,
        "patch_size": PATCH,
        "input_size": [CROP, CROP],
        "vit_layers": [-4, -10],
        "block_config": {
            "attn_config": {"n_heads": V_HEADS, "head_dim": D_V // V_HEADS},
            "ffn_config": {"size": V_FFN, "activation_type": "gelu_pytorch_tanh"},
            "lnorm_config": {"eps": 1e-6},
        },
        "vl_connector_config": {
            "pooling_h": 2,
            "pooling_w": 2,
            "attn_pooling_config": {"n_heads": P_HEADS, "head_dim": P_HEAD_DIM},
            "mlp_projector_config": {"size": PROJ},
        },
    },
    "text_config": {
        "hidden_size": D_L,
        "n_layers": T_LAYERS,
        "vocab_size": VOCAB,
        "additional_vocab_size": EXTRA,
        "rope_theta": 1000000.0,
        "max_sequence_length": 4096,
        "block_config": {
            "attn_config": {"n_heads": T_HEADS, "n_kv_heads": T_KV, "head_dim": T_HEAD_DIM},
            "ffn_config": {"size": T_FFN},
            "lnorm_config": {"eps": 1e-6},
        },
    },
}


def reference_tensors(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under the names and shapes JinaVLMForConditionalGeneration.state_dict() has."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    v, c, t = "model.vision_model.", "model.vision_model.vl_connector.", "model.language_model."
    width, pool_inner = 2 * D_V, P_HEADS * P_HEAD_DIM
    state = {
        v + "patch_embed.proj.weight": r(D_V, 3 * PATCH * PATCH),  # linear patch embedding
        v + "patch_embed.proj.bias": r(D_V),
        v + "pos_embed": r((CROP // PATCH) ** 2, D_V),
        v + "post_lnorm.weight": 1 + r(D_V),
        v + "post_lnorm.bias": r(D_V),
        c + "pad_embed": r(2, width),
        c + "pooling.q_w.weight": r(pool_inner, width),
        c + "pooling.kv_w.weight": r(2 * pool_inner, width),
        c + "pooling.q_b": r(pool_inner),
        c + "pooling.k_b": r(pool_inner),
        c + "pooling.v_b": r(pool_inner),
        c + "pooling.out.weight": r(D_V, pool_inner),
        c + "pooling.out.bias": r(D_V),
        c + "projector.up.weight": r(2 * PROJ, D_V),
        c + "projector.down.weight": r(D_L, PROJ),
        t + "embedding.embedding": r(VOCAB, D_L),
        t + "embedding.new_embedding": r(EXTRA, D_L),
        t + "ln_f.weight": 1 + r(D_L),
        "lm_head.weight": r(VOCAB, D_L),
    }
    for i in range(V_LAYERS):
        p = f"{v}layers.{i}."
        state |= {
            p + "attn.qkv_w.weight": r(3 * D_V, D_V),
            p + "attn.q_b": r(D_V),
            p + "attn.k_b": r(D_V),
            p + "attn.v_b": r(D_V),
            p + "attn.out.weight": r(D_V, D_V),
            p + "attn.out.bias": r(D_V),
            p + "attn_lnorm.weight": 1 + r(D_V),
            p + "attn_lnorm.bias": r(D_V),
            p + "ffn_lnorm.weight": 1 + r(D_V),
            p + "ffn_lnorm.bias": r(D_V),
            p + "ffn.up.weight": r(V_FFN, D_V),
            p + "ffn.up.bias": r(V_FFN),
            p + "ffn.down.weight": r(D_V, V_FFN),
            p + "ffn.down.bias": r(D_V),
        }
    q, kv = T_HEADS * T_HEAD_DIM, T_KV * T_HEAD_DIM
    for i in range(T_LAYERS):
        p = f"{t}layers.{i}."
        state |= {
            p + "attn.qkv_w.weight": r(q + 2 * kv, D_L),
            p + "attn.q_b": torch.zeros(q),  # present in the state dict, frozen at zero (no q_bias)
            p + "attn.k_b": torch.zeros(kv),
            p + "attn.v_b": torch.zeros(kv),
            p + "attn.out.weight": r(D_L, q),
            p + "attn.q_lnorm.weight": 1 + r(T_HEAD_DIM),
            p + "attn.k_lnorm.weight": 1 + r(T_HEAD_DIM),
            p + "attn_lnorm.weight": 1 + r(D_L),
            p + "ffn_lnorm.weight": 1 + r(D_L),
            p + "ffn.up.weight": r(2 * T_FFN, D_L),
            p + "ffn.down.weight": r(D_L, T_FFN),
        }
    return state


def write_reference(directory, state, tokenizer=None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(REFERENCE_CONFIG))
    (directory / "preprocessor_config.json").write_text(
        json.dumps(
            {"max_crops": 12, "overlap_margins": [4, 4], "base_input_size": [CROP, CROP], "patch_size": PATCH}
        )
    )
    save_file(state, directory / "model.safetensors")
    if tokenizer is not None:
        tokenizer.save_pretrained(directory)


@pytest.fixture(scope="module")
def jina_tokenizer():
    """The Qwen3 tokenizer with the reference's extra tokens at ids 151936.. (fillers up to there)."""
    tokenizer = build_qwen_tokenizer(with_image_tokens=False)
    fillers = [f"<|filler_{i}|>" for i in range(VOCAB - len(tokenizer))]
    tokenizer.add_special_tokens({"additional_special_tokens": fillers + JINA_TOKENS})
    tokenizer.eos_token = "<|endoftext|>"  # the reference's EOS (151643), also its BOS stand-in
    assert tokenizer.convert_tokens_to_ids("<im_patch>") == VOCAB
    return tokenizer


@pytest.fixture(scope="module")
def converted(tmp_path_factory, jina_tokenizer):
    root = tmp_path_factory.mktemp("jina")
    state = reference_tensors()
    write_reference(root / "src", state, jina_tokenizer)
    result = CliRunner().invoke(cli, ["model", "convert-jina", str(root / "src"), str(root / "out")])
    assert result.exit_code == 0, result.output
    model = AutoModelForImageTextToText.from_pretrained(root / "out").eval()
    return state, model, root / "out"


def test_tensors_land_where_the_reference_uses_them(converted):
    state, model, _ = converted
    v, t = "model.vision_model.", "model.language_model."
    sd = model.state_dict()
    q, k, val = state[v + "layers.3.attn.qkv_w.weight"].chunk(3)  # loaded unchanged: exact equality holds
    assert torch.equal(sd["vision_tower.encoder.layers.3.self_attn.q_proj.weight"], q)
    assert torch.equal(sd["vision_tower.encoder.layers.3.self_attn.v_proj.weight"], val)
    assert torch.equal(
        sd["vision_tower.encoder.layers.3.self_attn.k_proj.bias"], state[v + "layers.3.attn.k_b"]
    )
    embed = sd["language_model.model.embed_tokens.weight"]
    assert embed.shape == (VOCAB + EXTRA, D_L)
    assert torch.equal(embed[VOCAB:], state[t + "embedding.new_embedding"])
    head = sd["language_model.lm_head.weight"]
    assert torch.equal(head[:VOCAB], state["lm_head.weight"]) and not head[VOCAB:].any()
    config = model.config
    assert config.vision_feature_layers == [-3, -9]  # the reference's -4, -10 over layers + post-norm
    assert config.image_patch_token_id == VOCAB and config.image_col_token_id == VOCAB + 3
    assert model.generation_config.suppress_tokens == list(range(VOCAB, VOCAB + EXTRA))


def back_to_reference(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse mapping, written out here: PolyVLM tensors -> the reference's names and layout."""
    v, c, t, tower, lm = (
        "model.vision_model.", "model.vision_model.vl_connector.", "model.language_model.",
        "vision_tower.", "language_model.model.",
    )  # fmt: skip
    pool, proj = "connector.attention_pool.", "connector.projection."
    conv = sd[
        tower + "embeddings.patch_embedding.weight"
    ]  # (d, 3, p, p) -> (d, p*p*3), pixels (row, col, ch)
    embed = sd[lm + "embed_tokens.weight"]
    out = {
        v + "patch_embed.proj.weight": conv.permute(0, 2, 3, 1).reshape(D_V, -1),
        v + "patch_embed.proj.bias": sd[tower + "embeddings.patch_embedding.bias"],
        v + "pos_embed": sd[tower + "embeddings.position_embedding.weight"],
        v + "post_lnorm.weight": sd[tower + "post_layernorm.weight"],
        v + "post_lnorm.bias": sd[tower + "post_layernorm.bias"],
        c + "pad_embed": sd["connector.pad_embed"],
        c + "pooling.q_w.weight": sd[pool + "q_proj.weight"],
        c + "pooling.kv_w.weight": torch.cat([sd[pool + "k_proj.weight"], sd[pool + "v_proj.weight"]]),
        c + "pooling.q_b": sd[pool + "q_proj.bias"],
        c + "pooling.k_b": sd[pool + "k_proj.bias"],
        c + "pooling.v_b": sd[pool + "v_proj.bias"],
        c + "pooling.out.weight": sd[pool + "o_proj.weight"],
        c + "pooling.out.bias": sd[pool + "o_proj.bias"],
        c + "projector.up.weight": torch.cat([sd[proj + "w2.weight"], sd[proj + "w1.weight"]]),
        c + "projector.down.weight": sd[proj + "w3.weight"],
        t + "embedding.embedding": embed[:VOCAB],
        t + "embedding.new_embedding": embed[VOCAB:],
        t + "ln_f.weight": sd[lm + "norm.weight"],
        "lm_head.weight": sd["language_model.lm_head.weight"][:VOCAB],
    }
    for i in range(V_LAYERS):
        src, dst = f"{tower}encoder.layers.{i}.", f"{v}layers.{i}."
        attn = src + "self_attn."
        out[dst + "attn.qkv_w.weight"] = torch.cat([sd[attn + f"{x}_proj.weight"] for x in "qkv"])
        out |= {dst + f"attn.{x}_b": sd[attn + f"{x}_proj.bias"] for x in "qkv"}
        for part in ("weight", "bias"):
            out[dst + f"attn.out.{part}"] = sd[attn + f"out_proj.{part}"]
            out[dst + f"attn_lnorm.{part}"] = sd[src + f"layer_norm1.{part}"]
            out[dst + f"ffn_lnorm.{part}"] = sd[src + f"layer_norm2.{part}"]
            out[dst + f"ffn.up.{part}"] = sd[src + f"mlp.fc1.{part}"]
            out[dst + f"ffn.down.{part}"] = sd[src + f"mlp.fc2.{part}"]
    for i in range(T_LAYERS):
        src, dst = f"{lm}layers.{i}.", f"{t}layers.{i}."
        attn, mlp = src + "self_attn.", src + "mlp."
        out |= {
            dst + "attn.qkv_w.weight": torch.cat([sd[attn + f"{x}_proj.weight"] for x in "qkv"]),
            dst + "attn.q_b": torch.zeros(T_HEADS * T_HEAD_DIM),
            dst + "attn.k_b": torch.zeros(T_KV * T_HEAD_DIM),
            dst + "attn.v_b": torch.zeros(T_KV * T_HEAD_DIM),
            dst + "attn.out.weight": sd[attn + "o_proj.weight"],
            dst + "attn.q_lnorm.weight": sd[attn + "q_norm.weight"],
            dst + "attn.k_lnorm.weight": sd[attn + "k_norm.weight"],
            dst + "attn_lnorm.weight": sd[src + "input_layernorm.weight"],
            dst + "ffn_lnorm.weight": sd[src + "post_attention_layernorm.weight"],
            dst + "ffn.up.weight": torch.cat([sd[mlp + "up_proj.weight"], sd[mlp + "gate_proj.weight"]]),
            dst + "ffn.down.weight": sd[mlp + "down_proj.weight"],
        }
    return out


def test_the_conversion_round_trips_every_tensor_exactly(converted):
    state, model, _ = converted
    back = back_to_reference(model.state_dict())
    assert back.keys() == state.keys()
    # tensors are only split, concatenated and permuted, never computed: exact equality holds
    unequal = [k for k in state if not torch.equal(back[k], state[k])]
    assert not unequal, unequal[:5]


def test_vision_embedding_matches_the_reference_linear_patch_projection(converted):
    state, model, _ = converted
    pixels = torch.randn(1, 3, CROP, CROP)
    # The reference: patches (row, column, channel) -> Linear -> + pos_embed.
    patches = pixels.unfold(2, PATCH, PATCH).unfold(3, PATCH, PATCH).permute(0, 2, 3, 4, 5, 1)
    v = "model.vision_model."
    expected = F.linear(patches.reshape(1, -1, 3 * PATCH * PATCH), state[v + "patch_embed.proj.weight"],
                        state[v + "patch_embed.proj.bias"]) + state[v + "pos_embed"]  # fmt: skip
    with torch.no_grad():
        got = model.vision_tower.embeddings(pixels)
    # fp32 sums of 588 products of ~0.1-sized terms: 1e-5 is far above rounding, far below any mix-up
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def reference_pool_and_project(state, crops: torch.Tensor) -> torch.Tensor:
    """The reference connector on (N, 27, 27, 2*D_V) crops without padding flags: (N, 196, D_L)."""
    c = "model.vision_model.vl_connector."
    n = crops.shape[0]
    x = (
        F.pad(crops, (0, 0, 0, 1, 0, 1))
        .view(n, 14, 2, 14, 2, -1)
        .permute(0, 1, 3, 2, 4, 5)
        .reshape(-1, 4, 2 * D_V)
    )
    query = x.mean(1, keepdim=True)
    q = F.linear(query, state[c + "pooling.q_w.weight"], state[c + "pooling.q_b"])
    kv = F.linear(
        x, state[c + "pooling.kv_w.weight"], torch.cat([state[c + "pooling.k_b"], state[c + "pooling.v_b"]])
    )
    k, v = kv.split(P_HEADS * P_HEAD_DIM, dim=-1)
    heads = lambda a: a.view(a.shape[0], a.shape[1], P_HEADS, P_HEAD_DIM).transpose(1, 2)  # noqa: E731
    attn = F.scaled_dot_product_attention(heads(q), heads(k), heads(v))
    pooled = F.linear(attn.transpose(1, 2).reshape(x.shape[0], -1), state[c + "pooling.out.weight"],
                      state[c + "pooling.out.bias"])  # fmt: skip
    up = F.linear(pooled, state[c + "projector.up.weight"])
    value, gate = up.chunk(2, dim=-1)
    return F.linear(F.silu(gate) * value, state[c + "projector.down.weight"]).view(n, 196, D_L)


def test_connector_computes_what_the_reference_connector_computes(converted):
    state, model, _ = converted
    crops = torch.randn(2, 27, 27, 2 * D_V)
    with torch.no_grad():
        pooled = model.connector.pool_crops(crops, torch.tensor([False, False]))
        got = model.connector.project(pooled.reshape(2, 196, -1))
    expected = reference_pool_and_project(state, crops)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)  # fp32, sums of <= 96 small terms
    # negative control: swapping the reference's [up; gate] halves must not pass this check
    c = "model.vision_model.vl_connector.projector.up.weight"
    swapped = dict(state, **{c: torch.cat(state[c].chunk(2)[::-1])})
    with pytest.raises(AssertionError):
        torch.testing.assert_close(got, reference_pool_and_project(swapped, crops), atol=1e-5, rtol=1e-4)
    # the partly-padded flag adds pad_embed[1] to every patch of that crop before pooling
    with torch.no_grad():
        flagged = model.connector.pool_crops(crops, torch.tensor([False, True]))
        shifted = model.connector.pool_crops(crops + state["model.vision_model.vl_connector.pad_embed"][1], torch.tensor([False, False]))  # fmt: skip
    torch.testing.assert_close(flagged[1], shifted[1], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(flagged[0], pooled[0], atol=1e-6, rtol=1e-5)


def test_lm_feed_forward_uses_up_then_gate(converted):
    state, model, _ = converted
    x = torch.randn(5, D_L)
    p = "model.language_model.layers.1."
    value, gate = F.linear(x, state[p + "ffn.up.weight"]).chunk(2, dim=-1)
    expected = F.linear(F.silu(gate) * value, state[p + "ffn.down.weight"])
    with torch.no_grad():
        got = model.language_model.model.layers[1].mlp(x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_converted_model_generates_from_its_processor(converted):
    _, model, out = converted
    processor = AutoProcessor.from_pretrained(out)
    text = "<|im_start|>user\n<image>What is this?<|im_end|>\n<|im_start|>assistant\n"
    inputs = processor(text=text, images=[noise_image(700, 500)], max_tiles=4)
    assert inputs["input_ids"][0, 0] == 151643  # the reference's BOS stand-in, <|endoftext|>
    assert int((inputs["input_ids"] == VOCAB).sum()) > 0  # <im_patch> at the reference's id
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    new = generated[0, inputs["input_ids"].shape[1] :]
    assert new.shape == (5,) and (new < VOCAB).all()  # the extra rows are never generated


def test_bad_checkpoints_are_refused_and_nothing_is_written(tmp_path):
    good = reference_tensors(seed=1)
    cases = {
        "missing": {k: v for k, v in good.items() if k != "model.language_model.layers.1.attn.out.weight"},
        "unexpected": dict(good, **{"model.vision_model.cls_embed": torch.zeros(D_V)}),
        "misshapen": dict(good, **{"lm_head.weight": torch.zeros(VOCAB, D_L + 1)}),
    }
    for what, state in cases.items():
        write_reference(tmp_path / what, state)
        with pytest.raises(ConversionError, match=f"1 {what}"):
            convert_jina(tmp_path / what, tmp_path / f"{what}-out")
        assert not (tmp_path / f"{what}-out").exists()
    biased = dict(good, **{"model.language_model.layers.0.attn.k_b": torch.ones(T_KV * T_HEAD_DIM)})
    write_reference(tmp_path / "biased", biased)
    result = CliRunner().invoke(
        cli, ["model", "convert-jina", str(tmp_path / "biased"), str(tmp_path / "b-out")]
    )
    assert (
        result.exit_code == 1
        and "no q/k/v biases" in result.output
        and "nothing was written" in result.output
    )
    assert not (tmp_path / "b-out").exists()


def test_a_conv_patch_embedding_and_no_tokenizer_convert_with_the_assumed_token_ids(tmp_path):
    state = reference_tensors(seed=2)
    conv = torch.randn(D_V, 3, PATCH, PATCH)  # the reference's Conv2d form (linear_patch_embedding off)
    state["model.vision_model.patch_embed.proj.weight"] = conv
    write_reference(tmp_path / "src", state)  # no tokenizer: the model alone, with the assumed ids
    convert_jina(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out" / "processor_config.json").exists()
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "out")
    assert torch.equal(model.vision_tower.embeddings.patch_embedding.weight, conv)  # loaded unchanged
    assert (model.config.image_patch_token_id, model.config.image_end_token_id) == (151936, 151938)
