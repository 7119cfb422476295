"""`polyvlm train CONFIG`: click only at import; torch loads when the command runs."""

from __future__ import annotations

import shutil

import click


@click.command("train")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", help="Output directory (default: the config's output_dir, else runs/train-<name>)."
)
@click.option("--fresh", is_flag=True, help="Delete the output directory first instead of resuming.")
@click.option(
    "--validate",
    "validate_only",
    is_flag=True,
    help="Check the config and open every source of every stage (files, format, first records), then stop.",
)
@click.option(
    "--max-failed-share",
    type=click.FloatRange(0, 1),
    help="Fail when more than this share of a source's records or a stage's samples cannot train "
    "(default: the config's max_failed_share, else 0.01).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    config: str,
    output: str | None,
    fresh: bool,
    validate_only: bool,
    max_failed_share: float | None,
    quiet: bool,
) -> None:
    """Train the stages of CONFIG; run it again after a kill and it continues from the last checkpoint.

    Several processes: torchrun --nproc-per-node N -m polyvlm.cli train CONFIG
    """
    from polyvlm.core.errors import RecipeError
    from polyvlm.train.config import load_train_config

    try:
        cfg = load_train_config(config)
    except RecipeError as e:
        raise click.ClickException(str(e)) from None
    if output:
        cfg = cfg.model_copy(update={"output_dir": output})
    if max_failed_share is not None:
        cfg = cfg.model_copy(update={"max_failed_share": max_failed_share})
    if validate_only:
        from polyvlm.train.preflight import check_sources

        try:
            lines = check_sources(cfg)
        except RecipeError as e:
            raise click.ClickException(str(e)) from None
        for line in lines:
            click.echo(line)
        click.echo(f"{config}: ok — {len(cfg.stages)} stages: {', '.join(s.name for s in cfg.stages)}")
        return
    import warnings

    from polyvlm.model.cli import _quiet_transformers

    _quiet_transformers()
    # transformers warns on every forward that PolyVLM hands Qwen3 past_key_values=None (the model's concern)
    warnings.filterwarnings("ignore", message=".*past_key_values.*deprecated", category=FutureWarning)
    from polyvlm.train.loop import train as run_training

    if fresh:
        shutil.rmtree(cfg.out_dir, ignore_errors=True)
    with open(config, encoding="utf-8") as f:
        text = f.read()
    try:
        final = run_training(cfg, text, resume=not fresh, progress=not quiet)
    except RecipeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"wrote {final} (loadable with AutoModelForImageTextToText), log.jsonl, loss.svg in {cfg.out_dir}"
    )
