"""Test support: the sample PKI, PDFs and dossiers live in luutru.samples (the demo uses them too).

``tests.support.pki`` / ``.pdfs`` / ``.dossiers`` are the same module objects, so either import works.
"""

import sys

from luutru.samples import dossiers, pdfs, pki

for _name, _module in (("pki", pki), ("pdfs", pdfs), ("dossiers", dossiers)):
    sys.modules[f"{__name__}.{_name}"] = _module

__all__ = ["dossiers", "pdfs", "pki"]
