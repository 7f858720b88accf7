"""Records and evidence: metadata validation, the event chain."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.findings import Finding, Severity
from luutru.cli.context import CliContext, emit_json, pass_ctx

PROFILES = ("tt02-2019", "nd30-2020", "tt05-2025")


def print_findings(findings: list[Finding]) -> None:
    colours = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
    for f in findings:
        where = " ".join(x for x in (f.path or "", f"[{f.field}]" if f.field else "") if x)
        click.echo(
            click.style(f"{f.severity.value:7}", fg=colours[f.severity]) + f" {f.code} {where}\n"
            f"        {f.message_vi}\n        {f.message_en}"
        )


@click.group("metadata")
def metadata_group() -> None:
    """Descriptive metadata (dữ liệu đặc tả) against the regulation profiles."""


@metadata_group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--profile", type=click.Choice(PROFILES), default=None, help="Default: the file's own 'profile'."
)
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@pass_ctx
def metadata_validate(ctx: CliContext, file: Path, profile: str | None, as_json: bool) -> None:
    """Validate a dossier's metadata (JSON, XLSX or CSV). Exit 0 valid, 1 errors found, 2 unreadable."""
    from archive.metadata import validate_file

    findings = validate_file(file, profile, overrides=ctx.settings.profile_overrides)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if as_json:
        emit_json({"path": str(file), "valid": not errors, "findings": [f.to_json() for f in findings]})
    else:
        print_findings(findings)
        click.echo(
            f"{'HỢP LỆ / VALID' if not errors else 'KHÔNG HỢP LỆ / INVALID'}: "
            f"{len(errors)} error(s), {len(findings) - len(errors)} other finding(s)"
        )
    unreadable = any(f.code.startswith("metadata.unreadable") for f in errors)
    sys.exit(2 if unreadable else 1 if errors else 0)


@click.group("events")
def events_group() -> None:
    """The hash-chained event log."""


@events_group.command("verify")
@click.option(
    "--backup",
    "backups",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Also compare with the checkpoints of this backup folder (repeatable); "
    "those under <data_dir>/backups are always read.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def events_verify(ctx: CliContext, backups: tuple[Path, ...], as_json: bool) -> None:
    """Recompute the chain and compare it with the signed checkpoints on the replicas and in backups.

    Exit 1, naming the first missing or changed event, when a link is broken, the chain is
    shorter than a checkpoint, differs from one, or a checkpoint's signature does not verify.
    """
    from luutru import evidence

    report = evidence.verify(ctx.services, backups)
    data = report.to_json()
    if as_json:
        emit_json(data)
    elif report.ok:
        newest = data["checkpoints"]["newest"]
        anchored = (
            f"; checkpoint {newest['seq']} ({newest['signed_at']}) matches"
            if newest
            else "; no checkpoint yet"
        )
        click.echo(
            f"Chuỗi sự kiện toàn vẹn / event chain intact: {report.chain.checked} events, "
            f"head {report.chain.head_hash}{anchored}"
        )
    else:
        broken = data["broken"] or {}
        click.echo(
            f"Chuỗi sự kiện bị phá vỡ / event chain BROKEN at event seq={broken.get('seq')} "
            f"uuid={broken.get('uuid')}: {broken.get('reason')}",
            err=True,
        )
        for line in report.invalid:
            click.echo(f"Điểm neo không hợp lệ / invalid checkpoint: {line}", err=True)
    sys.exit(0 if report.ok else 1)


@events_group.command("anchor")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def events_anchor(ctx: CliContext, as_json: bool) -> None:
    """Write a signed checkpoint of the chain's head to every replica now (also done after every
    accession, backup and audit). Exit 1 when a replica could not be written."""
    from luutru import evidence

    result = evidence.anchor(ctx.services, "manual")
    ok = result is not None and result.ok
    data = {
        "ok": ok,
        "seq": result.seq if result else None,
        "written": result.written if result else [],
        "already": result.already if result else [],
        "failed": result.failed if result else {},
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(
            f"điểm neo / checkpoint {data['seq']}: written {data['written']}, already {data['already']}"
            + (f", FAILED {data['failed']}" if data["failed"] else "")
        )
    sys.exit(0 if ok else 1)


def register(cli: click.Group) -> None:
    cli.add_command(metadata_group)
    cli.add_command(events_group)
