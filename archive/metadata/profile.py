"""Metadata profiles as data: load a TOML profile (plus an override file) into frozen specs.

A profile (TT 05/2025, NĐ 30/2020 PL VI, TT 02/2019 …) is one TOML file in
``archive/metadata/profiles/``; a new circular is a new file, not new code. The format is
described in docs/metadata-profiles.md. Unknown keys are rejected (``ConfigError``), so a typo
in a profile or an override file is caught at load time, not silently ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from archive.errors import ConfigError, NotFound

PROFILE_DIR = Path(__file__).with_name("profiles")
FieldType = Literal["string", "number", "date", "boolean", "longtext", "code", "group"]
FIELD_TYPES: frozenset[str] = frozenset(("string", "number", "date", "boolean", "longtext", "code", "group"))
DATE_FORMATS: frozenset[str] = frozenset(("DD/MM/YYYY", "MM/YYYY", "YYYY", "YYYY-MM-DD"))


@dataclass(frozen=True, slots=True)
class Condition:
    """``field`` (same record) equals ``equals``: makes a field required (``required_if``)."""

    field: str
    equals: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One metadata field (trường thông tin) of a record kind, with every rule that applies.

    ``max_length`` counts characters after NFC (digits for numbers). ``derive = "concat"``
    says the value is ``parts`` joined in order (``@dossier.x`` = field x of the enclosing
    dossier, ``@ordinal`` = the document's position, zero-padded to ``pad``). ``check =
    "agency_code"`` validates the value as an agency code. ``verified = False`` marks a rule
    REGULATIONS grades as unverified; ``source`` is its key there (§14).
    """

    name: str
    label_vi: str
    label_en: str
    type: FieldType = "string"
    max_length: int | None = None
    required: bool = False
    codelist: str | None = None
    multi: bool = False
    separator: str = ","
    required_if: tuple[Condition, ...] = ()
    derive: str | None = None
    parts: tuple[str, ...] = ()
    pad: int | None = None
    check: str | None = None
    not_before: str | None = None
    within: tuple[str, ...] = ()
    count_of: str | None = None
    date_formats: tuple[str, ...] = ()
    ead: bool = True
    aliases: tuple[str, ...] = ()
    subfields: tuple[FieldSpec, ...] = ()
    verified: bool = True
    grade: str = ""
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class CodeList:
    """A code list (bảng mã): code → Vietnamese label; codes are strings ("01")."""

    name: str
    label_vi: str
    codes: Mapping[str, str]
    verified: bool = True
    grade: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A kind of record in a profile (dossier, document, outgoing …) with ordered fields."""

    name: str
    label_vi: str
    label_en: str
    fields: tuple[FieldSpec, ...]
    xml_root: str | None = None
    date_formats: tuple[str, ...] = ("DD/MM/YYYY", "YYYY-MM-DD")

    def field(self, name: str) -> FieldSpec | None:
        """Find a field by name or alias, ignoring case."""
        key = name.casefold()
        for spec in self.fields:
            if spec.name.casefold() == key or key in (a.casefold() for a in spec.aliases):
                return spec
        return None


@dataclass(frozen=True, slots=True)
class Profile:
    """A metadata profile: its record kinds and code lists."""

    name: str
    title_vi: str
    title_en: str
    kinds: Mapping[str, RecordKind]
    codelists: Mapping[str, CodeList]
    grade: str = ""
    source: str = ""
    dossier_kind: str = "dossier"
    document_kind: str = "document"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def kind(self, name: str) -> RecordKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise NotFound("record kind", f"{self.name}:{name}") from None


_FIELD_KEYS = {f.name for f in dataclasses.fields(FieldSpec)}
_KIND_KEYS = {"label_vi", "label_en", "xml_root", "date_formats", "defaults", "fields", "base", "include"}
_PROFILE_KEYS = {"name", "title_vi", "title_en", "grade", "source", "dossier_kind", "document_kind", "extra"}


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``archive/metadata/profiles/``, oldest act first.

    File names end in the act's year (``tt05-2025``), which gives the order.
    """
    return sorted((p.stem for p in PROFILE_DIR.glob("*.toml")), key=lambda n: (n.rsplit("-", 1)[-1], n))


def load_profile(name: str, overrides: Path | None = None) -> Profile:
    """Load shipped profile ``name``, then apply the override file's section for it (if any).

    Raises ``NotFound`` for an unknown profile and ``ConfigError`` for a malformed profile or
    override file (unknown keys, wrong types, unknown fields).
    """
    if name not in available_profiles():
        raise NotFound("metadata profile", name)
    return load_profile_file(PROFILE_DIR / f"{name}.toml", overrides)


def load_profile_file(path: Path, overrides: Path | None = None) -> Profile:
    """Load a profile from any TOML file (a new circular before it is shipped, a test profile).

    The profile's name is ``[profile] name``, else the file's stem; the override file's section
    of that name is applied. Parsed profiles are cached by the files' paths and modification
    times (profiles are immutable), so an edited file is read again.
    """
    stamp = (path.stat().st_mtime_ns, overrides.stat().st_mtime_ns if overrides is not None else 0)
    return _load_cached(path, overrides, stamp)


@functools.lru_cache(maxsize=32)
def _load_cached(path: Path, overrides: Path | None, _stamp: tuple[int, int]) -> Profile:
    raw = _read_toml(path)
    name = str(_as_table(raw.get("profile", {}), "[profile]").get("name", path.stem))
    if overrides is not None:
        section = _read_toml(overrides).get(name)
        if section is not None:
            raw = _apply_overrides(raw, _as_table(section, f"overrides [{name}]"), name)
    return _build_profile(raw, name)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _as_table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table")
    return cast(dict[str, Any], value)


def _apply_overrides(raw: dict[str, Any], section: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a copy of raw profile data with ``[name.kind.field]`` / codelist overrides applied."""
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    kinds = _as_table(raw.get("kinds", {}), "kinds")
    for kind_name, changes in section.items():
        where = f"overrides [{name}.{kind_name}]"
        if kind_name == "codelists":
            lists = raw.setdefault("codelists", {})
            for list_name, list_changes in _as_table(changes, where).items():
                target = dict(_as_table(lists.get(list_name, {"label_vi": list_name}), where))
                new_codes = _as_table(list_changes, where).get("codes", {})
                target["codes"] = {**target.get("codes", {}), **_as_table(new_codes, where)}
                lists[list_name] = target
            continue
        if kind_name not in kinds:
            raise ConfigError(f"{where}: profile has no record kind {kind_name!r}")
        kind = dict(_as_table(kinds[kind_name], where))
        fields = [dict(f) for f in kind.get("fields", [])]
        for field_name, attrs in _as_table(changes, where).items():
            attrs = _as_table(attrs, f"{where}.{field_name}")
            unknown = set(attrs) - _FIELD_KEYS
            if unknown:
                raise ConfigError(f"{where}.{field_name}: unknown attributes {sorted(unknown)}")
            match = [f for f in fields if str(f.get("name", "")).casefold() == field_name.casefold()]
            if match:
                match[0].update(attrs)
            elif kind.get("base"):
                fields.append({"name": field_name, "_patch": True, **attrs})
            else:
                raise ConfigError(f"{where}: record kind has no field {field_name!r}")
        kind["fields"] = fields
        kinds[kind_name] = kind
    raw["kinds"] = kinds
    return raw


def _build_profile(raw: dict[str, Any], name: str) -> Profile:
    head = _as_table(raw.get("profile", {}), "[profile]")
    unknown = set(head) - _PROFILE_KEYS
    if unknown:
        raise ConfigError(f"{name}: unknown [profile] keys {sorted(unknown)}")
    codelists = {
        list_name: _build_codelist(list_name, _as_table(data, f"codelists.{list_name}"))
        for list_name, data in _as_table(raw.get("codelists", {}), "codelists").items()
    }
    raw_kinds = _as_table(raw.get("kinds", {}), "kinds")
    kinds: dict[str, RecordKind] = {}
    for kind_name in raw_kinds:
        kinds[kind_name] = _build_kind(kind_name, raw_kinds, codelists, name)
    return Profile(
        name=str(head.get("name", name)),
        title_vi=str(head.get("title_vi", name)),
        title_en=str(head.get("title_en", name)),
        kinds=kinds,
        codelists=codelists,
        grade=str(head.get("grade", "")),
        source=str(head.get("source", "")),
        dossier_kind=str(head.get("dossier_kind", "dossier")),
        document_kind=str(head.get("document_kind", "document")),
        extra=dict(head.get("extra", {})),
    )


def _build_codelist(name: str, data: dict[str, Any]) -> CodeList:
    unknown = set(data) - {"label_vi", "codes", "verified", "grade", "source"}
    if unknown:
        raise ConfigError(f"codelist {name}: unknown keys {sorted(unknown)}")
    codes = {str(k): str(v) for k, v in _as_table(data.get("codes", {}), f"codelist {name}").items()}
    return CodeList(
        name,
        str(data.get("label_vi", name)),
        codes,
        bool(data.get("verified", True)),
        str(data.get("grade", "")),
        str(data.get("source", "")),
    )


def _build_kind(
    kind_name: str, raw_kinds: dict[str, Any], codelists: Mapping[str, CodeList], profile: str
) -> RecordKind:
    data = _as_table(raw_kinds[kind_name], f"kinds.{kind_name}")
    unknown = set(data) - _KIND_KEYS
    if unknown:
        raise ConfigError(f"{profile}.{kind_name}: unknown keys {sorted(unknown)}")
    defaults = _as_table(data.get("defaults", {}), f"{kind_name}.defaults")
    own = [f for f in data.get("fields", []) if not f.get("_patch")]
    patches = {str(f["name"]).casefold(): f for f in data.get("fields", []) if f.get("_patch")}
    specs = {str(f["name"]): _build_field(f, defaults, codelists, f"{profile}.{kind_name}") for f in own}
    order = list(specs)
    base_name = data.get("base")
    if base_name is not None:
        if base_name not in raw_kinds or base_name == kind_name:
            raise ConfigError(f"{profile}.{kind_name}: bad base {base_name!r}")
        base = _build_kind(str(base_name), raw_kinds, codelists, profile)
        base_specs = {f.name: f for f in base.fields}
        include = [str(n) for n in data.get("include", [*base_specs, *order])]
        missing = [n for n in include if n not in specs and n not in base_specs]
        if missing:
            raise ConfigError(f"{profile}.{kind_name}: included fields not found {missing}")
        specs = {n: specs.get(n) or base_specs[n] for n in include}
        order = include
    for key, attrs in patches.items():
        target = next((n for n in order if n.casefold() == key), None)
        if target is None:
            raise ConfigError(f"{profile}.{kind_name}: no field {attrs['name']!r} to override")
        changes = {k: v for k, v in attrs.items() if k not in ("name", "_patch")}
        specs[target] = _build_field({**_field_as_raw(specs[target]), **changes}, {}, codelists, kind_name)
    formats = tuple(data.get("date_formats", ("DD/MM/YYYY", "YYYY-MM-DD")))
    _check_formats(formats, f"{profile}.{kind_name}")
    return RecordKind(
        name=kind_name,
        label_vi=str(data.get("label_vi", kind_name)),
        label_en=str(data.get("label_en", kind_name)),
        fields=tuple(specs[n] for n in order),
        xml_root=data.get("xml_root"),
        date_formats=formats,
    )


def _field_as_raw(spec: FieldSpec) -> dict[str, Any]:
    raw: dict[str, Any] = {f.name: getattr(spec, f.name) for f in dataclasses.fields(FieldSpec)}
    raw["required_if"] = [{"field": c.field, "equals": c.equals} for c in spec.required_if]
    raw["subfields"] = [_field_as_raw(s) for s in spec.subfields]
    return raw


def _check_formats(formats: tuple[str, ...], where: str) -> None:
    bad = [f for f in formats if f not in DATE_FORMATS]
    if bad:
        raise ConfigError(f"{where}: unknown date formats {bad}; known: {sorted(DATE_FORMATS)}")


def _build_field(
    data: Mapping[str, Any], defaults: Mapping[str, Any], codelists: Mapping[str, CodeList], where: str
) -> FieldSpec:
    merged = {**defaults, **data}
    unknown = set(merged) - _FIELD_KEYS
    if unknown:
        raise ConfigError(f"{where}.{data.get('name')}: unknown field attributes {sorted(unknown)}")
    if "name" not in merged or "label_vi" not in merged:
        raise ConfigError(f"{where}: every field needs name and label_vi ({dict(data)!r})")
    ftype = str(merged.get("type", "string"))
    if ftype not in FIELD_TYPES:
        raise ConfigError(f"{where}.{merged['name']}: unknown type {ftype!r}")
    codelist = merged.get("codelist")
    if codelist is not None and codelist not in codelists:
        raise ConfigError(f"{where}.{merged['name']}: unknown code list {codelist!r}")
    formats = tuple(str(f) for f in merged.get("date_formats", ()))
    _check_formats(formats, f"{where}.{merged['name']}")
    sub_defaults = {k: v for k, v in defaults.items() if k in ("verified", "grade", "source")}
    return FieldSpec(
        name=str(merged["name"]),
        label_vi=str(merged["label_vi"]),
        label_en=str(merged.get("label_en", merged["name"])),
        type=cast(FieldType, ftype),
        max_length=None if merged.get("max_length") is None else int(merged["max_length"]),
        required=bool(merged.get("required", False)),
        codelist=None if codelist is None else str(codelist),
        multi=bool(merged.get("multi", False)),
        separator=str(merged.get("separator", ",")),
        required_if=tuple(
            Condition(str(c["field"]), str(c["equals"])) for c in merged.get("required_if", ())
        ),
        derive=merged.get("derive"),
        parts=tuple(str(p) for p in merged.get("parts", ())),
        pad=None if merged.get("pad") is None else int(merged["pad"]),
        check=merged.get("check"),
        not_before=merged.get("not_before"),
        within=tuple(str(w) for w in merged.get("within", ())),
        count_of=merged.get("count_of"),
        date_formats=formats,
        ead=bool(merged.get("ead", True)),
        aliases=tuple(str(a) for a in merged.get("aliases", ())),
        subfields=tuple(_build_field(s, sub_defaults, codelists, where) for s in merged.get("subfields", ())),
        verified=bool(merged.get("verified", True)),
        grade=str(merged.get("grade", "")),
        source=str(merged.get("source", "")),
        note=str(merged.get("note", "")),
    )
