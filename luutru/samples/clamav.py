"""A TEST malware-signature database for ClamAV: it knows one pattern, the EICAR test file.

ClamAV's real signatures come from freshclam, which the tests and the demo cannot download.
This database lets ``clamscan`` really run in a test or demo data directory: a file holding
the EICAR anti-virus test string (harmless by design, recognised by every scanner) is reported
as ``Luutru.Test.EICAR.UNOFFICIAL FOUND``; everything else scans clean. It protects against
nothing real: a production archive points ``clamav_database`` at freshclam's database (or
leaves it empty).
"""

from __future__ import annotations

from pathlib import Path

SIGNATURE_NAME = "Luutru.Test.EICAR"
DATABASE_FILE = "luutru-test-eicar.ndb"

# The EICAR test string, kept in two halves so that this source file is not itself "infected"
# in the eyes of a scanner on a developer's machine.
_EICAR_HEAD = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$"
_EICAR_TAIL = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def eicar_test_file() -> bytes:
    """The 68-byte EICAR anti-virus test file."""
    return (_EICAR_HEAD + _EICAR_TAIL).encode("ascii")


def write_test_database(directory: Path) -> Path:
    """Write the one-signature database (ClamAV ``.ndb``: name, any file type, any offset, hex)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DATABASE_FILE
    path.write_text(f"{SIGNATURE_NAME}:0:*:{eicar_test_file().hex()}\n", encoding="ascii")
    return path


__all__ = ["DATABASE_FILE", "SIGNATURE_NAME", "eicar_test_file", "write_test_database"]
