"""The `polyvlm` command: run, validate, steps, model, chat, train, eval, review."""

from __future__ import annotations

import sys

import click

from polyvlm.core.errors import RecipeError, StopRun
from polyvlm.core.recipe import load_recipe
from polyvlm.core.stats import format_funnel
from polyvlm.model.cli import chat, model  # click only: torch loads when a model command runs
from polyvlm.train.cli import train  # click only, like the model commands


class _LazyCommands(click.Group):
    """A group whose heavier subcommands are imported only when they are called (or listed)."""

    lazy = {  # `polyvlm run` never imports the harness or the web app
        "eval": ("polyvlm.eval.cli", "eval_group"),
        "review": ("polyvlm.review.cli", "review_group"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            import importlib

            module, attr = self.lazy[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="polyvlm")
def cli() -> None:
    """polyvlm: data, model and evaluation for non-English vision-language models."""


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("-o", "--output", help="Output directory (default: the recipe's output_dir).")
@click.option("-w", "--workers", type=int, help="Worker processes of the local engine (default: CPU count).")
@click.option("--ray-address", help="Ray cluster to join, e.g. 127.0.0.1:6379 (default: start a local one).")
@click.option("--fresh", is_flag=True, help="Delete the output directory first instead of resuming.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--endpoint", help="Send every model call to this OpenAI-compatible URL, e.g. http://127.0.0.1:8000/v1."
)
@click.option("--endpoint-model", help="With --endpoint: the model name to ask for (default: each step's).")
@click.option("--api-key-env", help="With --endpoint: the environment variable holding the API key.")
def run(recipe: str, engine: str, output: str | None, workers: int | None, ray_address: str | None,
        fresh: bool, quiet: bool, endpoint: str | None, endpoint_model: str | None,
        api_key_env: str | None) -> None:  # fmt: skip
    """Run RECIPE; an interrupted run resumes where it stopped when run again."""
    from polyvlm.engine.catalog import load_builtin_steps
    from polyvlm.engine.run import run_recipe

    load_builtin_steps()
    try:
        r = load_recipe(recipe)
        if endpoint:
            from polyvlm.engine.endpoint_override import point_at_endpoint

            if not point_at_endpoint(r, endpoint, endpoint_model, api_key_env):
                raise RecipeError(f"{recipe} has no step that calls a model: --endpoint changes nothing")
        stats = run_recipe(r, output, engine, workers, ray_address, fresh, progress=not quiet)
    except RecipeError as e:
        raise click.ClickException(str(e)) from None
    except Exception as e:  # Ray wraps a worker's StopRun in its own error: look for it in the causes
        stop = _stop_cause(e)
        if stop is None:
            raise
        raise click.ClickException(f"run stopped: {stop}. Run the same command again to resume.") from None
    click.echo(format_funnel(stats))
    click.echo(
        f"wrote {output or r.output_dir} (stats.json, manifest.json, report.html, rejects/, errors.jsonl)"
    )


def _stop_cause(e: BaseException) -> StopRun | None:
    """The StopRun behind an error (itself, its __cause__ chain, or a Ray task error's `cause`)."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, StopRun):
            return e
        e = getattr(e, "cause", None) or e.__cause__  # type: ignore[assignment]
        seen += 1
    return None


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
def validate(recipe: str) -> None:
    """Check RECIPE (keys, steps, parameters, inputs) without running it."""
    from polyvlm.engine.catalog import load_builtin_steps

    load_builtin_steps()
    try:
        r = load_recipe(recipe)
    except RecipeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{recipe}: ok — {len(r.shards)} input files, {len(r.steps)} steps, {len(r.outputs)} outputs")


@cli.command()
@click.option("--kind", help="Only steps of this kind (read, map, expand, batch, aggregate, write).")
def steps(kind: str | None) -> None:
    """List every registered step with its parameters, one-line doc and the file that implements it."""
    from polyvlm.core.step import param_type, step_doc, step_source
    from polyvlm.engine.catalog import load_builtin_steps

    for name, cls in sorted(load_builtin_steps().items(), key=lambda kv: (kv[1].kind, kv[0])):
        if kind and cls.kind != kind:
            continue
        click.echo(f"{name}  [{cls.kind}]  {step_doc(cls)}")
        click.echo(f"    in {step_source(cls)}")
        for pname, field in cls.Params.model_fields.items():
            doc = f"  — {field.description}" if field.description else ""
            click.echo(f"    {pname}: {param_type(field)} = {field.default!r}{doc}")


cli.add_command(model)
cli.add_command(chat)
cli.add_command(train)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="polyvlm")


if __name__ == "__main__":
    sys.exit(main())
