"""Checks that tools and tests drive on single files and bags: bag, identify, check pdf/signatures.

The JSON printed with ``--json`` is a stable contract (documented in docs/cli.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from luutru.cli.context import CliContext, emit_json, pass_ctx
from luutru.cli.records import print_findings


@click.group("bag")
def bag_group() -> None:
    """BagIt bags (RFC 8493; also 0.93–0.97)."""


@bag_group.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.option("--fast", is_flag=True, help="Check sizes and Payload-Oxum only, do not hash.")
def bag_validate(path: Path, as_json: bool, fast: bool) -> None:
    """Validate a bag. Exit 0 valid, 1 invalid, 2 usage or I/O error; warnings go to stderr."""
    from archive.bags import bag_validate_main

    code, report = bag_validate_main(path, fast=fast)
    for w in report.warnings:
        click.echo(f"warning: {w.code}: {w.message_vi} / {w.message_en}", err=True)
    if as_json:
        emit_json(report.to_json())
    else:
        for e in report.errors:
            click.echo(f"error: {e.code}: {e.message_vi} / {e.message_en}")
        click.echo("valid" if report.valid else "invalid")
    sys.exit(code)


@click.command("identify")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def identify_cmd(ctx: CliContext, files: tuple[Path, ...], as_json: bool) -> None:
    """Identify file formats: MIME (libmagic) and PRONOM id (fido)."""
    from ingest.formats import FormatPolicy
    from ingest.identify import identify_many

    policy = FormatPolicy(frozenset(ctx.settings.accepted_formats))
    identities = identify_many(list(files), policy)
    if as_json:
        emit_json([i.to_json() for i in identities])
        return
    for i in identities:
        click.echo(f"{i.path}\t{i.mime}\t{i.puid or '-'}\t{i.format or '-'} {i.version or ''}".rstrip())
        print_findings(list(i.findings))


@click.group("check")
def check_group() -> None:
    """Checks of single files."""


@check_group.command("pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check_pdf_cmd(ctx: CliContext, file: Path, as_json: bool) -> None:
    """PDF structure and PDF/A (built-in checks; veraPDF too when installed). Exit 1 on errors."""
    from archive.findings import has_errors
    from ingest.checks import check_pdf, find_verapdf

    report = check_pdf(file, verapdf=find_verapdf(ctx.settings.verapdf_path or None))
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(f"{file}: PDF {report.pdf_version}, PDF/A {report.pdfa.claimed or '-'}")
        print_findings(list(report.findings))
    sys.exit(1 if has_errors(report.findings) else 0)


@check_group.command("signatures")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust anchor (PEM/DER); default: the archive's imported trust anchors.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check_signatures_cmd(ctx: CliContext, file: Path, trust: tuple[Path, ...], as_json: bool) -> None:
    """Validate every digital signature (offline). Exit 0 when every signature is valid."""
    from ingest.checks import check_signatures, load_trust_roots

    roots = list(trust) or load_trust_roots(ctx.settings.trust_path)
    report = check_signatures(file, roots, other_certs=roots)
    if as_json:
        emit_json(report.to_json())
    else:
        for sig in report.signatures:
            click.echo(
                f"{sig.field}: {sig.signer} ({sig.kind}) at {sig.signed_at}: "
                f"{'VALID' if sig.valid else 'INVALID'}; modification {sig.modification}"
            )
            print_findings(list(sig.findings))
        print_findings(list(report.findings))
    sys.exit(0 if report.valid else 1)


def register(cli: click.Group) -> None:
    for cmd in (bag_group, identify_cmd, check_group):
        cli.add_command(cmd)
