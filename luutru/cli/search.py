"""Search from the command line: query, drain the outbox, rebuild the index."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from archive.catalog import Agency, User
from archive.visibility import Visibility
from luutru.cli.context import CliContext, emit_json, pass_ctx
from policies.access import Actor, granted_dossiers, visibility_for
from search.index.base import SearchQuery


def _visibility(ctx: CliContext, username: str | None) -> Visibility:
    """The operator sees everything; ``--as USER`` searches as that user would in the portal:
    their roles, agency and live access-request grants (``policies.access.granted_dossiers``)."""
    if username is None:
        return Visibility.everything()
    if username == "anonymous":
        return visibility_for(Actor.anonymous())
    with ctx.services.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.BadParameter(f"no user {username!r}", param_hint="--as")
        code = None
        if user.agency_id:
            agency = s.get(Agency, user.agency_id)
            code = agency.code if agency else None
        grants = granted_dossiers(s, user.id)
        actor = Actor.of(user.id, user.username, [r.role for r in user.roles], code, grants)
    return visibility_for(actor)


class _SearchGroup(click.Group):
    """`luutru search QUERY …` runs the query; `luutru search drain|reindex` the maintenance commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@click.group("search", cls=_SearchGroup)
def search_group() -> None:
    """Full-text search in Vietnamese, with or without diacritics: luutru search "quyet dinh" [--json]."""


@search_group.command("query", hidden=True)
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1)
@click.option(
    "--as", "username", default=None, help="Search as this user (or 'anonymous'); default: operator."
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def search_query(
    ctx: CliContext, query: str, limit: int, page: int, username: str | None, as_json: bool
) -> None:
    """Search: prints {"total", "hits": [{"id","dossier","title","score","snippet"}]} with --json."""
    result = ctx.services.search.search(
        SearchQuery(text=query, per_page=limit, page=page), _visibility(ctx, username)
    )
    hits = [
        {
            "id": h.id,
            "dossier": h.dossier_code,
            "title": h.title,
            "score": round(h.score, 4),
            "snippet": h.snippet,
        }
        for h in result.hits
    ]
    if as_json:
        emit_json({"total": result.total, "hits": hits})
        return
    click.echo(f"{result.total} kết quả / results")
    for h in hits:
        click.echo(f"{h['score']:8.3f}  {h['dossier']}  {h['title']}\n          {h['snippet']}")


def _bar(total: int | None, label: str) -> Progress:
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip


@search_group.command("drain")
@pass_ctx
def search_drain(ctx: CliContext) -> None:
    """Apply every queued index update (extracting text, with OCR, where needed)."""
    svc = ctx.services.search
    pending = svc.pending()
    with _bar(pending, "chỉ mục / indexing") as bar:
        task = bar.add_task("drain", total=pending)
        done = svc.drain_all(progress=lambda n: bar.advance(task, n))
    click.echo(f"{done} update(s) applied")


@search_group.command("reindex")
@pass_ctx
def search_reindex(ctx: CliContext) -> None:
    """Rebuild the whole index from the catalog (stored text; no re-OCR); searches keep working."""
    svc = ctx.services.search
    with _bar(None, "xây lại chỉ mục / reindexing") as bar:
        task = bar.add_task("reindex", total=None)
        written = svc.reindex(progress=lambda n: bar.update(task, completed=n))
    click.echo(f"{written} record(s) indexed")


def register(cli: click.Group) -> None:
    cli.add_command(search_group)
