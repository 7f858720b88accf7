"""The official E-ARK validator (PyPI ``eark-validator``), run without network.

At import ``eark_validator.ipxml.schematron`` fetches four CSIP vocabularies with
``urllib.request.urlopen`` although the package ships the same files. Before importing it we
install a urllib opener whose only handler serves ``https://earkcsip.dilcis.eu/schema/<name>``
from the shipped ``resources/vocabs/<name>`` and refuses every other URL: the validator's own
code runs unchanged, on its own vocabulary files.

:func:`eark_errors` validates a package folder (the CSIP root: a bag's ``data/``) against the
current specification (CSIP, plus SIP or DIP by ``OAISPACKAGETYPE``) and returns the error
rule ids, minus :data:`VALIDATOR_DEFECTS` (rules that fire on correct packages; each is
explained in docs/packages.md).
"""

from __future__ import annotations

import importlib.util
import io
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

VOCAB_URL = "https://earkcsip.dilcis.eu/schema/"

# Rules eark-validator 1.1.3 reports on packages that follow the specification; see
# docs/packages.md "Validator defects" for the reason of each.
VALIDATOR_DEFECTS = frozenset({"CSIP12", "CSIP13", "CSIP16", "CSIP60", "CSIP63", "CSIP95", "CSIP103"})


def _vocab_dir() -> Path:
    spec = importlib.util.find_spec("eark_validator")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("eark-validator is not installed (scripts/setup.sh installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "ipxml" / "resources" / "vocabs"


class ShippedVocabularies(urllib.request.BaseHandler):
    """Answer the validator's vocabulary URLs from its packaged copies; nothing else."""

    handler_order = 100  # before urllib's own HTTP(S) handlers

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def https_open(self, req: urllib.request.Request) -> Any:
        url = req.full_url
        if not url.startswith(VOCAB_URL):
            raise urllib.error.URLError(f"no network in tests: {url}")
        path = self.folder / url.removeprefix(VOCAB_URL)
        body = path.read_bytes()
        headers = Message()
        headers["Content-Type"] = "application/xml"
        response = urllib.response.addinfourl(io.BytesIO(body), headers, url, 200)
        response.msg = "OK"
        return response

    http_open = https_open


_installed = False


def _install() -> None:
    global _installed
    if not _installed:
        urllib.request.install_opener(urllib.request.build_opener(ShippedVocabularies(_vocab_dir())))
        _installed = True


def eark_report(package_root: Path) -> Any:
    """Run the validator on ``package_root`` (folder holding the root METS.xml)."""
    _install()
    from eark_validator.packages import PackageValidator

    return PackageValidator(Path(package_root)).validation_report


def eark_errors(package_root: Path, *, ignore: frozenset[str] = VALIDATOR_DEFECTS) -> list[str]:
    """Every ERROR the validator reports for ``package_root`` as ``"RULE: message"``."""
    report = eark_report(package_root)
    out: list[str] = []
    for msg in report.structure.messages:
        if str(msg.severity).upper().endswith("ERROR"):
            out.append(f"{msg.rule_id}: {msg.message}")
    if report.metadata is not None:
        for group in (report.metadata.schema_results, report.metadata.schematron_results):
            for msg in group.messages:
                if str(msg.severity).upper().endswith("ERROR") and msg.rule_id not in ignore:
                    out.append(f"{msg.rule_id}: {msg.message} @ {msg.location}")
    return out
