"""convert-jina: a tiny checkpoint in the reference layout (written here, names and shapes from the
reference's modeling_jvlm.py / blocks_jvlm.py) converts, loads through the Auto classes, computes what
the reference's formulas compute with the same tensors, generates, and bad checkpoints are refused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from jina_checkpoint import (
    CROP,
    D_L,
    D_V,
    EXTRA,
    P_HEAD_DIM,
    P_HEADS,
    PATCH,
    T_HEAD_DIM,
    T_HEADS,
    T_KV,
    T_LAYERS,
    V_LAYERS,
    VOCAB,
    reference_config,
    reference_tensors,
    write_reference,
)  # fmt: skip
from jina_checkpoint import (
    jina_tokenizer as build_jina_tokenizer,
)
from model_inputs import noise_image
from transformers import AutoModelForImageTextToText, AutoProcessor

import polyvlm.model.auto  # noqa: F401 -- the Auto registration the converted directory relies on
from polyvlm.cli import cli
from polyvlm.model.convert_jina import ConversionError, convert_jina


@pytest.fixture(scope="module")
def jina_tokenizer():
    return build_jina_tokenizer()


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


def test_no_tokenizer_converts_the_model_alone_with_the_assumed_token_ids(tmp_path):
    state = reference_tensors(seed=2)
    write_reference(tmp_path / "src", state)  # no tokenizer: the model alone, with the assumed ids
    convert_jina(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out" / "processor_config.json").exists()
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "out")
    assert (model.config.image_patch_token_id, model.config.image_end_token_id) == (151936, 151938)


def test_the_conv2d_patch_embedding_is_refused(tmp_path):
    """The reference's Conv2d branch refolds (patches, pixels) rows into an image in another order:
    no SigLIP convolution computes it, so it is refused by its field, and a 4-D weight under a linear
    config is a misshapen tensor."""
    state = reference_tensors(seed=2)
    config = reference_config()
    config["vision_config"]["linear_patch_embedding"] = False
    write_reference(tmp_path / "conv", state, config=config)
    with pytest.raises(ConversionError, match="linear_patch_embedding = False"):
        convert_jina(tmp_path / "conv", tmp_path / "conv-out")
    state["model.vision_model.patch_embed.proj.weight"] = torch.randn(D_V, 3, PATCH, PATCH)
    write_reference(tmp_path / "conv4d", state)
    with pytest.raises(ConversionError, match="1 misshapen"):
        convert_jina(tmp_path / "conv4d", tmp_path / "conv4d-out")
