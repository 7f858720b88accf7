"""Settings: one typed object, from defaults ← ``luutru.toml`` ← ``LUUTRU_*`` variables.

Built once (``Settings.load()``) and passed in; nothing else reads ``os.environ``.
Every field is documented in docs/configuration.md; a test holds the two together.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from archive.errors import ConfigError

ENV_PREFIX = "LUUTRU_"

DEFAULT_FORMATS = (
    "txt", "rtf", "doc", "docx", "odt", "csv", "xls", "xlsx", "ods", "ppt", "pptx", "odp",
    "pdf", "jpg", "jpeg", "png", "tif", "tiff", "gif", "mp3", "mp4", "avi", "wav", "wma",
    "xml", "json", "edxml",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator can set. Paths left empty derive from ``data_dir``."""

    data_dir: Path = Path("luutru-data")
    database_url: str = ""  # empty → sqlite:///<data_dir>/catalog.db (WAL)
    # Replica roots: local paths, or s3://bucket/prefix (endpoint from s3_endpoint_url).
    replicas: tuple[str, ...] = ()  # empty → <data_dir>/replicas/r1 and r2
    allow_single_replica: bool = False  # development only: the law asks for ≥ 2 copies
    staging_dir: Path | None = None  # empty → <data_dir>/staging
    s3_endpoint_url: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    # Search
    search_backend: Literal["fts5", "elasticsearch"] = "fts5"
    search_db: Path | None = None  # FTS5 index file; empty → <data_dir>/search.db
    es_url: str = ""
    es_index: str = "luutru"
    search_time_budget_ms: int = 800  # SQL time one embedded search may take; then partial results
    ocr_languages: str = "vie+eng"
    # Jobs
    queue_backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "luutru"  # huey queue (Redis key prefix): one per archive sharing a Redis
    # Fixity audits
    fixity_interval_days: int = 90
    fixity_io_budget_mb_s: int = 50
    # Intake limits
    max_files: int = 10_000
    max_bytes: int = 20 * 1024**3
    max_file_bytes: int = 8 * 1024**3
    zip_max_ratio: int = 100
    accepted_formats: tuple[str, ...] = DEFAULT_FORMATS
    auto_accept: bool = True  # accept clean submissions without an archivist
    # Office hours (giờ hành chính, Vietnam time) and public holidays (YYYY-MM-DD)
    office_hours: tuple[str, ...] = ("07:30-11:30", "13:00-17:00")
    office_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    holidays: tuple[str, ...] = ()
    # Signatures and validators
    trust_dir: Path | None = None  # imported CA certificates; empty → <data_dir>/trust
    verapdf_path: str = ""  # empty → look for `verapdf` on PATH
    clamscan_path: str = ""  # empty → look for clamdscan / clamscan on PATH
    # Malware signatures (a file or directory): empty → <data_dir>/clamav if present, else ClamAV's own
    clamav_database: Path | None = None
    # Retention and disposal
    disposal_deadline_days: int = 15
    # Web
    archive_name: str = ""  # the archive's own name (reading-room margin); empty → the top agency's
    secret_key: str = ""  # empty → generated once into <data_dir>/secret_key
    host: str = "127.0.0.1"
    port: int = 8080
    web_workers: int = 0  # server processes; 0 → one per CPU core
    session_minutes: int = 30  # a web session ends after this long without a request
    session_max_hours: int = 12  # … and this long after sign-in, however busy
    login_attempts_per_minute: int = 20  # per client address, sustained (a burst of as many)
    secure_cookies: bool = False  # set true behind HTTPS
    profile_overrides: Path | None = None  # TOML overriding unverified profile rules
    edxml_mappings: Path | None = None  # folder of per-agency edXML mapping profiles (<OrganId>.toml)
    edxml_organ_id: str = ""  # the archive's mã định danh, as sender of edXML status answers
    fault_points: tuple[str, ...] = ()  # recovery tests only: crash (SIGKILL) at these points

    # -- derived ---------------------------------------------------------------------------
    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def replica_roots(self) -> tuple[str, ...]:
        if self.replicas:
            return self.replicas
        return tuple(str(self.data_dir / "replicas" / n) for n in ("r1", "r2"))

    @property
    def staging_path(self) -> Path:
        return self.staging_dir or self.data_dir / "staging"

    @property
    def search_db_path(self) -> Path:
        return self.search_db or self.data_dir / "search.db"

    @property
    def trust_path(self) -> Path:
        return self.trust_dir or self.data_dir / "trust"

    @property
    def clamav_database_path(self) -> Path | None:
        """The signature database the scan loads; None → the scanner's own (freshclam's)."""
        if self.clamav_database is not None:
            return self.clamav_database
        local = self.data_dir / "clamav"
        return local if local.is_dir() else None

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        toml_path: Path | None = None,
        cwd: Path | None = None,
    ) -> Self:
        """Build settings from ``luutru.toml`` (or ``$LUUTRU_CONFIG``) and ``LUUTRU_*`` variables.

        Every path comes out absolute, resolved here once: against the working directory (``cwd``,
        default the process's), or against the file's folder for a relative path the file sets.
        Nothing later (the web app, a forked worker, a job) resolves a path again, so every
        command agrees on where the data is.

        Raises ConfigError on an unknown key or a value of the wrong type.
        """
        env = os.environ if environ is None else environ
        here = Path(cwd) if cwd is not None else Path.cwd()
        values: dict[str, Any] = {}
        path = toml_path or Path(env.get("LUUTRU_CONFIG", "luutru.toml"))
        if path.is_file():
            with path.open("rb") as fh:
                # A relative path in the file means "beside the file", wherever luutru runs from.
                values.update(_absolute(tomllib.load(fh), (here / path).parent))
        from_env: dict[str, Any] = {}
        for key, raw in env.items():
            if key.startswith(ENV_PREFIX) and key != "LUUTRU_CONFIG":
                name = key[len(ENV_PREFIX) :].lower()
                if name in _ENV_IGNORED:
                    continue
                from_env[name] = raw
        values.update(_absolute(from_env, here))
        values.update(_absolute({k: v for k, v in _PATH_DEFAULTS.items() if k not in values}, here))
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        kwargs = {name: _coerce(name, hints[name], value) for name, value in values.items()}
        settings = cls(**kwargs)
        settings.check()
        return settings

    def check(self) -> None:
        if len(self.replica_roots) < 2 and not self.allow_single_replica:
            raise ConfigError(
                "at least two storage replicas are required (TT 02/2019 Điều 8, TT 05/2025 Điều 27);"
                " set allow_single_replica = true only for development"
            )
        if len(set(self.replica_roots)) != len(self.replica_roots):
            raise ConfigError("replica roots must be distinct")
        if self.session_minutes < 1 or self.session_max_hours < 1:
            raise ConfigError("session_minutes and session_max_hours must be ≥ 1")
        if self.fixity_interval_days < 1 or self.fixity_io_budget_mb_s < 1:
            raise ConfigError("fixity_interval_days and fixity_io_budget_mb_s must be ≥ 1")

    def with_(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)


# Relative defaults of path settings (resolved like a value given in a variable).
_PATH_DEFAULTS = {"data_dir": "luutru-data"}
_SQLITE = "sqlite:///"


def _absolute(values: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """``values`` with every relative path made absolute against ``base`` (other values as given).

    Local replica roots and a SQLite catalog URL are paths too; URLs (``s3://``, PostgreSQL) are not.
    """
    out = dict(values)
    path_fields = _path_fields()
    for name, value in values.items():
        if name in path_fields and isinstance(value, str | Path) and str(value):
            out[name] = str(_under(base, value))
        elif name == "replicas":
            items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
            if isinstance(items, list | tuple):
                out[name] = [
                    v if not isinstance(v, str) or "://" in v else str(_under(base, v))
                    for v in items
                    if not isinstance(v, str) or v
                ]
        elif name == "database_url" and isinstance(value, str) and value.startswith(_SQLITE):
            rest = value[len(_SQLITE) :]
            if rest and not rest.startswith("/") and not rest.startswith(":memory:"):
                out[name] = _SQLITE + str(_under(base, rest))
    return out


def _path_fields() -> frozenset[str]:
    """Settings typed ``Path`` or ``Path | None``: every one is resolved, new ones included."""
    hints = typing.get_type_hints(Settings)
    return frozenset(name for name, hint in hints.items() if hint is Path or Path in typing.get_args(hint))


def _under(base: Path, value: str | Path) -> Path:
    path = Path(value).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base.absolute() / path))


# Variables with the prefix that belong to tests or tools, not to the archive.
_ENV_IGNORED = frozenset({"test_pg_url", "test_redis_url", "es_url_test", "s3_url"})


def _coerce(name: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # X | None
        inner = [a for a in args if a is not type(None)]
        if value in (None, ""):
            return None
        return _coerce(name, inner[0], value)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{name}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        item = args[0]
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name}: expected a list")
        return tuple(_coerce(name, item, v) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}: {value!r} is not a boolean")
    if hint is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: {value!r} is not an integer") from None
    if hint is Path:
        return Path(value)
    if hint is str:
        return str(value)
    raise ConfigError(f"{name}: unsupported type {hint!r}")  # pragma: no cover - programming error


def settings_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(Settings)]


__all__ = ["DEFAULT_FORMATS", "Settings", "settings_fields"]
