"""`polyvlm review`: init, serve, export, agreement, rotate-secret. Only click is imported here; each command
imports its part."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.group("review")
def review_group() -> None:
    """Human review of generated data with measured inter-annotator agreement."""


@review_group.command("init")
@click.argument("dataset", type=click.Path(exists=True))
@click.argument("project", type=click.Path(file_okay=False))
@click.option("--annotators", "annotators_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Text file: one annotator name a line.")  # fmt: skip
@click.option("--overlap", type=int, default=2, show_default=True, help="Annotators per shared item (K).")
@click.option("--overlap-share", type=float, default=0.2, show_default=True,
              help="Share of items reviewed by K annotators (the rest by one).")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="YAML rating form (default: adequacy 1-5, fluency 1-5, accept/reject).")  # fmt: skip
@click.option("--images-dir", multiple=True, help="Where relative image paths are found (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--tokens-out", type=click.Path(dir_okay=False),
              help="Also write the tokens to this file (mode 0600) instead of only printing them.")  # fmt: skip
def init_cmd(dataset: str, project: str, annotators_file: str, overlap: int, overlap_share: float,
             config_path: str | None, images_dir: tuple[str, ...], seed: int, tokens_out: str | None) -> None:  # fmt: skip
    """Create review PROJECT from DATASET (Parquet, polyvlm JSONL, LLaVA JSON or messages JSONL; a file or a run's output folder)."""
    from pydantic import ValidationError

    from polyvlm.review.config import load_config
    from polyvlm.review.project_init import init_project, read_annotators

    try:
        config = load_config(config_path)
        names = read_annotators(annotators_file)
        result = init_project(dataset, project, names, overlap, overlap_share, config, list(images_dir), seed)
    except (ValueError, ValidationError, FileExistsError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"{project}: {result.items} items, {result.assignments} assignments for {len(names)} annotators"
    )
    for reason, n in sorted(result.problems.items()):
        click.echo(f"  {n} × {reason}")
    tokens = {**result.tokens, "admin": result.admin_token}
    if tokens_out:
        fd = os.open(tokens_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(tokens, f, indent=2)
        click.echo(f"tokens written to {tokens_out} (only their hashes are in the project)")
    else:
        click.echo("tokens (shown once; the project keeps only their hashes):")
        for name, token in tokens.items():
            click.echo(f"  {name}: {token}")


@review_group.command("serve")
@click.argument("project", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
def serve_cmd(project: str, host: str, port: int) -> None:
    """Serve the annotation web app of PROJECT (127.0.0.1 unless --host says otherwise)."""
    import uvicorn

    from polyvlm.review.web_app import build_app

    try:
        app = build_app(project)
    except (FileNotFoundError, KeyError) as e:
        raise click.ClickException(str(e)) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}; put TLS in front of it (tokens travel in the login form)")
    click.echo(f"serving {project} on http://{host}:{port}/ (admin: /admin/login)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@review_group.command("export")
@click.argument("project", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False))
def export_cmd(project: str, output: str) -> None:
    """Write the refined dataset (reviewed.parquet, reviewed.jsonl, rejected.jsonl, export_stats.json)."""
    from polyvlm.review.export import export_project
    from polyvlm.review.store import connect

    try:
        stats = export_project(connect(project), output)
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from None
    click.echo(" · ".join(f"{k} {v}" for k, v in stats.items()))
    click.echo(f"wrote {output}")


@review_group.command("agreement")
@click.argument("project", type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Folder for agreement.json and .html (default: PROJECT).",
)
def agreement_cmd(project: str, output: str | None) -> None:
    """Inter-annotator agreement: Cohen, Fleiss, Krippendorff per field, language and generator."""
    from polyvlm.review.agreement import agreement_report
    from polyvlm.review.agreement_page import agreement_document
    from polyvlm.review.config import ReviewConfig
    from polyvlm.review.store import connect, get_meta

    try:
        conn = connect(project)
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from None
    config = ReviewConfig.model_validate(get_meta(conn, "config"))
    report = agreement_report(conn, config)
    from polyvlm.review.private_files import write_private

    out = Path(output or project)
    out.mkdir(parents=True, exist_ok=True)
    # 0600 like every file of a project (the report names annotators and their ratings)
    write_private(
        str(out / "agreement.json"), (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()
    )
    write_private(
        str(out / "agreement.html"), agreement_document(report, config, f"Agreement: {project}").encode()
    )
    overall = report["groups"][0] if report["groups"] else None
    click.echo(f"{report['items']} items, {report['submissions']} current submissions")
    if overall:
        for name, a in overall["fields"].items():
            fig = [a["krippendorff"].get("value"), a["fleiss"].get("value")]
            txt = ", ".join("n/a" if v is None else f"{v:.3f}" for v in fig)
            click.echo(
                f"  {name}: Krippendorff's alpha, Fleiss' kappa = {txt} ({a['overlap_items']} items rated 2+ times)"
            )
    click.echo(f"wrote {out / 'agreement.json'} and {out / 'agreement.html'}")


@review_group.command("rotate-secret")
@click.argument("project", type=click.Path(exists=True, file_okay=False))
def rotate_secret_cmd(project: str) -> None:
    """Replace PROJECT's session key and end every session (a running server uses the new key at once)."""
    from polyvlm.review.session_key import key_path, rotate_secret
    from polyvlm.review.store import SESSIONS_SCHEMA, connect

    try:
        conn = connect(project)
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from None
    conn.executescript(SESSIONS_SCHEMA)  # a project made before sessions moved server-side
    ended = rotate_secret(project, conn)
    click.echo(
        f"new session key in {key_path(project)} (mode 0600); {ended} sessions ended, device cookies void"
    )
