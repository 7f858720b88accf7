"""Built-in PDF/A validator: how many conforming files it accepts, how many others it refuses.

Run by hand (never from the test suite):

    .venv/bin/python bench/pdfa_builtin.py [--dir /tmp/pdfa-bench] [--json out.json]

No public PDF/A test corpus (veraPDF corpus, Isartor) is installable from the package
registries this project may use, so the corpus is built here from real producers:

* **conforming** — reportlab+pikepdf files claiming 1b/2b/2u/3b (text and a scanned page),
  pyHanko-signed PDF/A-2b, LibreOffice's PDF/A-1/2/3 exports of a .docx and an .xlsx, and
  Ghostscript's ``-dPDFA=1/2/3`` output with an ICC OutputIntent;
* **rule variants** — each conforming file with one ISO 19005 rule broken
  (``luutru.samples.pdfa_variants``): this measures that each rule class fires on every
  producer's files, and is by construction not independent of the checks;
* **claims without conformance** — files that claim PDF/A and are not, made the way real
  files go wrong: Ghostscript ``-dPDFA`` without the ICC prologue, an ordinary LibreOffice
  or reportlab PDF whose XMP was stamped with a PDF/A claim.

Reported: acceptance of the conforming set, refusal of each non-conforming set, and the
files misjudged. Without veraPDF the ground truth of the conforming set is the producers'
own claim, checked by hand against the rules (see docs/pdfa.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pikepdf

from ingest.checks.pdf import check_pdf
from luutru.samples import pdfs, producers
from luutru.samples.pdfa_variants import VARIANTS, expected_code
from luutru.samples.pki import TestPki


def stamp_claim(src: Path, out: Path, part: str = "2", level: str = "B") -> Path:
    """An ordinary PDF with a PDF/A claim written into its XMP, nothing else changed."""
    with pikepdf.open(src) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = part
            meta["pdfaid:conformance"] = level
        pdf.save(out)
    return out


def conforming_set(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = [pdfs.make_pdf(root / f"rl-{c}.pdf", pdfa=c, pages=2) for c in ("1b", "2b", "2u", "3b")]
    files.append(pdfs.make_scanned_pdf(root / "rl-scan-2b.pdf", dpi=150))
    pki = TestPki.create(root / "pki")
    base = pdfs.make_pdf(root / "to-sign.pdf", pdfa="2b", signature_fields=("NguoiKy",))
    files.append(pdfs.sign_pdf(base, root / "signed-2b.pdf", pki.person.signer, field="NguoiKy"))
    office = [producers.make_docx(root / "cong-van.docx"), producers.make_xlsx(root / "muc-luc.xlsx")]
    for part in (1, 2, 3):
        for pdf in producers.libreoffice_pdfa(office, root / f"lo{part}", part=part):
            files.append(pdf.rename(pdf.with_name(f"lo{part}-{pdf.name}")))
        plain = pdfs.make_pdf(root / "plain.pdf", pages=2)
        files.append(producers.ghostscript_pdfa(plain, root / f"gs-{part}b.pdf", part))
    return files


def claims_set(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    plain = pdfs.make_pdf(root / "plain.pdf", pages=2)
    files = [
        producers.ghostscript_pdfa(plain, root / f"gs-noicc-{p}.pdf", p, intent=False) for p in (1, 2, 3)
    ]
    office = [producers.make_docx(root / "thu.docx"), producers.make_xlsx(root / "bang.xlsx")]
    plain_dir = root / "lo-plain"
    plain_dir.mkdir(exist_ok=True)
    for pdf in producers.libreoffice_pdfa(office, plain_dir, part=0):  # 0 = ordinary PDF
        files.append(stamp_claim(pdf, root / f"stamped-lo-{pdf.name}"))
    files.append(stamp_claim(plain, root / "stamped-reportlab.pdf"))
    files.append(stamp_claim(pdfs.make_scanned_pdf(root / "scan.pdf", pdfa=None), root / "stamped-scan.pdf"))
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where to build the corpus (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="pdfa-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    conforming = conforming_set(root / "ok")
    refused = [p for p in conforming if check_pdf(p).pdfa.compliant is not True]
    variants_dir = root / "variants"
    variants_dir.mkdir(exist_ok=True)
    made = caught = 0
    missed: list[str] = []
    for base in conforming:
        for key, breaker in VARIANTS.items():
            out = variants_dir / f"{base.stem}--{key.replace('#', '_').replace('*', '')}.pdf"
            variant = breaker(base, out)
            if variant is None:
                continue
            made += 1
            report = check_pdf(variant)
            ok = report.pdfa.compliant is False and expected_code(key, base) in {
                f.code for f in report.findings
            }
            caught += ok
            if not ok:
                missed.append(variant.name)
    claims = claims_set(root / "claims")
    claims_caught = [p for p in claims if check_pdf(p).pdfa.compliant is False]
    figures = {
        "conforming_files": len(conforming),
        "conforming_accepted": len(conforming) - len(refused),
        "refused_conforming": [p.name for p in refused],
        "variants": made,
        "variants_refused_with_their_code": caught,
        "variants_missed": missed,
        "claims_without_conformance": len(claims),
        "claims_refused": len(claims_caught),
        "claims_missed": [p.name for p in claims if p not in claims_caught],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
