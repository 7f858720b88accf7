"""Give a test data directory a working malware scan: ClamAV with the one-signature TEST database.

Without it, ``clamscan`` finds no database, nothing is scanned, and every submission goes to
review (``malware.not_scanned`` is a warning). With it, the scan really runs: the EICAR test file
is found, everything else is clean.
"""

from __future__ import annotations

from pathlib import Path

from luutru.config import Settings
from luutru.samples.clamav import eicar_test_file, write_test_database

__all__ = ["eicar_test_file", "install_test_signatures"]


def install_test_signatures(settings: Settings) -> Path:
    """Write the TEST database into ``<data_dir>/clamav``, where the archive looks by default."""
    return write_test_database(settings.data_dir / "clamav")
