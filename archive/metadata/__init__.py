"""Metadata profiles (TT 05/2025, NĐ 30/2020 PL VI, TT 02/2019) as data, and one engine.

Public entry points::

    load_profile(name, overrides=None) -> Profile
    load_profile_file(path, overrides=None) -> Profile
    available_profiles() -> ["tt02-2019", "nd30-2020", "tt05-2025"]
    validate_record(profile, kind, record, *, path=None) -> list[Finding]
    validate_dossier(profile, data) -> list[Finding]
    validate_file(path, profile=None, overrides=None) -> list[Finding]
    crosswalk(record, source, target="tt05-2025", kind="dossier") -> (dict, list[Finding])
    crosswalk_dossier(data, source, target="tt05-2025") -> (dict, list[Finding])

Readers and writers (JSON, XLSX/CSV listings, EAD XML) are in ``archive.metadata.io``.
"""

from archive.metadata.crosswalk import crosswalk, crosswalk_dossier
from archive.metadata.dossier import validate_dossier, validate_file
from archive.metadata.profile import (
    CodeList,
    FieldSpec,
    Profile,
    RecordKind,
    available_profiles,
    load_profile,
    load_profile_file,
)
from archive.metadata.validate import validate_record

__all__ = [
    "CodeList",
    "FieldSpec",
    "Profile",
    "RecordKind",
    "available_profiles",
    "crosswalk",
    "crosswalk_dossier",
    "load_profile",
    "load_profile_file",
    "validate_dossier",
    "validate_file",
    "validate_record",
]
