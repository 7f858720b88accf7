"""Languages: Vietnamese first, English second (Flask-Babel), and time shown as ISO 8601 +07:00.

Catalogs live as ``.po`` sources in ``luutru/translations/<locale>/LC_MESSAGES/messages.po``.
At app start :func:`compile_catalogs` writes a ``.mo`` next to each (or, when the package
directory is read-only, into ``<data_dir>/translations``) if it is missing or older than its
``.po`` — so nobody has to remember a build step, and a changed ``.po`` is picked up on restart.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import datetime
from enum import Enum
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, gettext

from archive.catalog import AccessRequestState, Role
from archive.vntime import vn_iso

log = logging.getLogger(__name__)

LOCALES: tuple[str, ...] = ("vi", "en")  # the first is the default
DEFAULT_LOCALE = LOCALES[0]
SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"
LANG_SESSION_KEY = "lang"


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def _compile_one(po: Path, mo: Path) -> None:
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo)  # atomic: a concurrent worker never reads half a catalog
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_catalogs(source: Path = SOURCE_DIR, fallback: Path | None = None) -> Path:
    """Compile every stale ``.po`` under ``source``; return the directory Babel should read.

    If ``source`` is not writable, the whole tree is mirrored into ``fallback`` and compiled
    there. Raises OSError when neither is writable.
    """
    target = source
    if not os.access(source, os.W_OK):
        if fallback is None:
            raise PermissionError(f"{source} is read-only and no fallback directory was given")
        target = fallback
        for po in source.glob("*/LC_MESSAGES/messages.po"):
            copy = target / po.relative_to(source)
            if _stale(po, copy):
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(po, copy)
    for po in target.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if _stale(po, mo):
            _compile_one(po, mo)
            log.info("compiled catalog", extra={"catalog": str(mo)})
    return target


def select_locale() -> str:
    """``?lang=xx`` switches and is remembered in the session; otherwise Vietnamese."""
    wanted = request.args.get("lang")
    if wanted in LOCALES:
        session[LANG_SESSION_KEY] = wanted
        return wanted
    stored = session.get(LANG_SESSION_KEY)
    return stored if stored in LOCALES else DEFAULT_LOCALE


def vn_datetime(value: datetime | None) -> str:
    """Jinja filter: an aware or naive-UTC datetime as ISO 8601 in Vietnam time (+07:00)."""
    return vn_iso(value)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it yet (gettext's no-op marker)."""
    return message


LABELS: dict[Enum, str] = {
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.ARCHIVIST: N_("Archivist"),
    Role.COUNCIL_MEMBER: N_("Appraisal council member"),
    Role.DECIDER: N_("Deciding official"),
    Role.AUDITOR: N_("Auditor"),
    Role.RESEARCHER: N_("Researcher"),
    Role.AGENCY_OFFICER: N_("Agency records officer"),
    AccessRequestState.PENDING: N_("Pending"),
    AccessRequestState.APPROVED: N_("Approved"),
    AccessRequestState.REFUSED: N_("Refused"),
}


def label(value: Enum) -> str:
    """The translated name of a role or a state (its value when it has no label)."""
    text = LABELS.get(value)
    return gettext(text) if text else str(value.value)


def init_i18n(app: Flask, data_dir: Path) -> None:
    """Compile catalogs, install Flask-Babel and the ``vn_datetime`` filter on ``app``."""
    directory = compile_catalogs(SOURCE_DIR, fallback=data_dir / "translations")
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["vn_datetime"] = vn_datetime
    app.jinja_env.filters["role_label"] = label
    app.jinja_env.globals["state_label"] = label
    app.jinja_env.globals["current_locale"] = current_locale


def current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale) if locale else DEFAULT_LOCALE


__all__ = [
    "DEFAULT_LOCALE",
    "LABELS",
    "LOCALES",
    "N_",
    "compile_catalogs",
    "current_locale",
    "init_i18n",
    "label",
    "select_locale",
    "vn_datetime",
]
