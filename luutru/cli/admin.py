"""Setting up and running the archive: init, db upgrade, demo, serve, worker, users, agencies, tokens."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import click

from archive import agencies, db
from archive.catalog import Role, TokenScope
from archive.errors import ArchiveError
from archive.vntime import VN_TZ, vn_iso, vn_today
from luutru import accounts, demo
from luutru.cli.context import CliContext, emit_json, pass_ctx
from luutru.services import prepare_data_dir


@click.command()
@pass_ctx
def init(ctx: CliContext) -> None:
    """Create the data directory and the catalog (apply every migration)."""
    prepare_data_dir(ctx.settings)
    click.echo(
        f"Đã khởi tạo / initialised: {ctx.settings.data_dir} ({ctx.settings.catalog_url.split(':')[0]})"
    )


@click.group("db")
def db_group() -> None:
    """Catalog database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_ctx
def db_upgrade(ctx: CliContext, revision: str) -> None:
    """Apply catalog migrations (Alembic) up to REVISION."""
    db.upgrade(ctx.settings.catalog_url, revision)
    click.echo(f"catalog at {db.current_revision(ctx.services.engine)}")


@click.command("demo")
@click.option("--serve/--no-serve", default=True, help="Start the web server afterwards.")
@click.option(
    "--dossiers", type=int, default=None, help="Ingest only the first N sample dossiers (default: all)."
)
@pass_ctx
def demo_cmd(ctx: CliContext, serve: bool, dossiers: int | None) -> None:
    """Set up a demo archive on the embedded defaults (sample dossiers ingested) and start it."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    prepare_data_dir(ctx.settings)
    with ctx.services.session() as s, s.begin():
        result = demo.seed(s)
    click.echo(f"Cơ quan / agencies: {result.agencies}; người dùng mới / new users: {result.users}")
    click.echo(f"Mật khẩu demo / demo password (every demo user): {demo.DEMO_PASSWORD}")
    click.echo("Users: " + ", ".join(u[0] for u in demo.DEMO_USERS))
    if result.token:
        click.echo(f"API token (Sở Nội vụ, shown once): {result.token}")
    signatures = demo.install_demo_signatures(ctx.settings)
    if signatures is not None:
        click.echo(f"Quét mã độc: chỉ mẫu THỬ EICAR / malware scan: EICAR TEST signature only ({signatures})")
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("hồ sơ mẫu / sample dossiers", total=None)
        outcomes = demo.ingest_corpus(
            ctx.services, dossiers, progress=lambda label: bar.update(task, description=label)
        )
    click.echo("Hồ sơ mẫu / sample dossiers: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    if serve:
        # Serve from a process that holds nothing the ingest opened (validation pool, index,
        # catalog connections): exactly what `luutru serve` on this folder would do.
        ctx.close()
        _serve(ctx, ctx.settings.host, ctx.settings.port, workers=None)


def _serve(ctx: CliContext, host: str, port: int, workers: int | None) -> None:
    from luutru.web.server import run_server, worker_count

    n = worker_count(ctx.settings, workers)
    click.echo(f"http://{host}:{port}/  ({n} worker process(es); Ctrl-C to stop)")
    run_server(ctx.settings, host=host, port=port, workers=workers)


@click.command()
@click.option("--host", default=None, help="Default: settings.host")
@click.option("--port", type=int, default=None, help="Default: settings.port")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Server processes (default: settings.web_workers, 0 = one per core).",
)
@pass_ctx
def serve(ctx: CliContext, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web console, researcher portal and REST API (gunicorn)."""
    _serve(ctx, host or ctx.settings.host, port or ctx.settings.port, workers)


@click.command()
@click.option("--workers", type=int, default=2, show_default=True)
@pass_ctx
def worker(ctx: CliContext, workers: int) -> None:
    """Run scheduled and background jobs (huey consumer)."""
    from luutru.jobs import make_huey

    huey = make_huey(ctx.settings)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    click.echo(f"worker: {ctx.settings.queue_backend} queue, {workers} threads")
    consumer.run()


@click.group("agency")
def agency_group() -> None:
    """Agencies (cơ quan) and their identifier codes."""


@agency_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--short-name", default=None)
@pass_ctx
def agency_add(ctx: CliContext, code: str, name: str, short_name: str | None) -> None:
    """Register an agency with its mã định danh (e.g. 000.00.00.H54)."""
    try:
        with ctx.services.session() as s, s.begin():
            agencies.create_agency(s, code, name, short_name=short_name)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"agency {code} added")


@click.group("user")
def user_group() -> None:
    """User accounts and roles."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]), required=True)
@click.option("--agency", "agency_code", default=None)
@click.password_option()
@pass_ctx
def user_add(
    ctx: CliContext,
    username: str,
    full_name: str,
    roles: tuple[str, ...],
    agency_code: str | None,
    password: str,
) -> None:
    """Create a user."""
    try:
        with ctx.services.session() as s, s.begin():
            agency = agencies.get_agency(s, agency_code) if agency_code else None
            accounts.create_user(s, username, full_name, password, [Role(r) for r in roles], agency=agency)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} created")


@user_group.command("password")
@click.argument("username")
@click.password_option()
@pass_ctx
def user_password(ctx: CliContext, username: str, password: str) -> None:
    """Set a new password for USERNAME; every session of the user ends at once."""
    from sqlalchemy import select

    from archive.catalog import User

    if len(password) < 12:
        raise click.ClickException(
            "Mật khẩu cần ít nhất 12 ký tự / the password needs at least 12 characters"
        )
    with ctx.services.session() as s, s.begin():
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"Không có người dùng / no such user: {username}")
        ended = accounts.change_password(s, user, password)
    click.echo(f"password of {username} changed; {ended} session(s) ended")


@user_group.command("end-sessions")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def user_end_sessions(ctx: CliContext, username: str, as_json: bool) -> None:
    """End every web session of USERNAME at once (e.g. a lost laptop)."""
    try:
        with ctx.services.session() as s, s.begin():
            ended = accounts.end_sessions(s, username)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json({"user": username, "sessions_ended": ended})
    else:
        click.echo(f"{ended} session(s) of {username} ended")


def _expiry(value: str | None) -> datetime | None:
    """``--expires YYYY-MM-DD``: valid through that day, Vietnam time."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint="--expires") from None
    if day <= vn_today():
        raise click.BadParameter(
            "ngày hết hạn phải sau hôm nay / must be after today", param_hint="--expires"
        )
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN_TZ)


@click.group("token")
def token_group() -> None:
    """Agencies' API tokens."""


@token_group.command("create")
@click.argument("agency_code")
@click.option("--name", required=True)
@click.option(
    "--scope", "scopes", multiple=True, type=click.Choice([s.value for s in TokenScope]), required=True
)
@click.option(
    "--expires", default=None, help="Last valid day, YYYY-MM-DD (Vietnam time); default: until revoked."
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def token_create(
    ctx: CliContext,
    agency_code: str,
    name: str,
    scopes: tuple[str, ...],
    expires: str | None,
    as_json: bool,
) -> None:
    """Issue an API token for an agency; the secret is printed once."""
    expires_at = _expiry(expires)
    try:
        with ctx.services.session() as s, s.begin():
            agency = agencies.get_agency(s, agency_code)
            issued = accounts.issue_token(
                s, agency, name, [TokenScope(x) for x in scopes], expires_at=expires_at
            )
            expiry = vn_iso(issued.token.expires_at) if issued.token.expires_at else None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json(
            {
                "prefix": issued.token.prefix,
                "token": issued.secret,
                "scopes": list(scopes),
                "expires_at": expiry,
            }
        )
    else:
        click.echo(issued.secret)


@token_group.command("revoke")
@click.argument("prefix")
@pass_ctx
def token_revoke(ctx: CliContext, prefix: str) -> None:
    """Revoke a token by its prefix (lt_…)."""
    from archive.events import SYSTEM

    try:
        with ctx.services.session() as s, s.begin():
            accounts.revoke_token(s, prefix, actor=SYSTEM)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {prefix} revoked")


def register(cli: click.Group) -> None:
    for cmd in (init, db_group, demo_cmd, serve, worker, agency_group, user_group, token_group):
        cli.add_command(cmd)
