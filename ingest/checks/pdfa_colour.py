"""PDF/A colour and transparency rules (ISO 19005-1 §6.2.2–6.2.9/6.4, 19005-2/3 §6.2.3–6.2.10).

* an OutputIntent ``/S /GTS_PDFA1`` whose DestOutputProfile is a valid ICC profile of an output
  (``prtr``) or monitor (``mntr``) class, of a version the part allows, with ``/N`` matching its
  colour space; several PDF/A OutputIntents must share one profile;
* device colour (DeviceRGB/CMYK/Gray, directly or as the base of Indexed/Separation/DeviceN,
  in operators, images, inline images and shadings) only when the OutputIntent's profile is of
  that family (Gray: any OutputIntent), unless a Default colour space overrides it;
* ICCBased colour spaces carry a valid profile with ``/N`` matching it;
* rendering intents are one of the four ISO 32000 names; no transfer functions;
* blend modes are standard ones; PDF/A-1 allows no transparency at all.
"""

from __future__ import annotations

from typing import Any

import pikepdf

from archive.findings import Finding
from ingest.checks.pdfa_walk import ContentUsage, Profile, resources_tree, rule_finding

ICC_FAMILIES = {b"RGB ": "RGB", b"CMYK": "CMYK", b"GRAY": "Gray"}
FAMILY_N = {"RGB": 3, "CMYK": 4, "Gray": 1}
INTENTS = {"/RelativeColorimetric", "/AbsoluteColorimetric", "/Perceptual", "/Saturation"}
BLEND_MODES = {
    "/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten",
    "/ColorDodge", "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion",
    "/Hue", "/Saturation", "/Color", "/Luminosity",
}  # fmt: skip


def _c(profile: Profile, part1: str, part2: str) -> str:
    return part1 if profile.part == 1 else part2


def icc_header(stream: pikepdf.Stream) -> tuple[str | None, str | None, int] | None:
    """(device class, colour family, major version) of an ICC profile stream, None if invalid."""
    try:
        head = stream.read_bytes()[:128]
    except pikepdf.PdfError:
        return None
    if len(head) < 40 or head[36:40] != b"acsp":
        return None
    return head[12:16].decode("latin-1"), ICC_FAMILIES.get(head[16:20]), head[8]  # major version


def output_intent_family(pdf: pikepdf.Pdf) -> str | None:
    """Colour family of the PDF/A OutputIntent's profile ("RGB", "CMYK", "Gray") or None."""
    for intent in pdf.Root.get("/OutputIntents", pikepdf.Array()):
        if isinstance(intent, pikepdf.Dictionary) and intent.get("/S") == pikepdf.Name.GTS_PDFA1:
            profile = intent.get("/DestOutputProfile")
            header = icc_header(profile) if isinstance(profile, pikepdf.Stream) else None
            return header[1] if header else None
    return None


def check_output_intent(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    """The PDF/A OutputIntent and its ICC profile."""
    clause = _c(profile, "6.2.2", "6.2.3")
    intents = [
        i
        for i in pdf.Root.get("/OutputIntents", pikepdf.Array())
        if isinstance(i, pikepdf.Dictionary) and i.get("/S") == pikepdf.Name.GTS_PDFA1
    ]
    if not intents:
        return [
            rule_finding(
                "output_intent_missing",
                "Thiếu OutputIntent GTS_PDFA1 với hồ sơ màu ICC.",
                "No GTS_PDFA1 OutputIntent with an ICC profile.",
                path,
                clause,
            )
        ]
    found: list[Finding] = []
    profiles = [i.get("/DestOutputProfile") for i in pdf.Root.get("/OutputIntents", pikepdf.Array())]
    with_profile = [p for p in profiles if isinstance(p, pikepdf.Stream)]
    if len({p.objgen if p.is_indirect else id(p) for p in with_profile}) > 1:
        found.append(
            rule_finding(
                "output_intent_multiple",
                "Các OutputIntent dùng những hồ sơ màu ICC khác nhau.",
                "The OutputIntents carry different ICC destination profiles.",
                path,
                clause,
            )
        )
    stream = intents[0].get("/DestOutputProfile")
    header = icc_header(stream) if isinstance(stream, pikepdf.Stream) else None
    max_version = 2 if profile.part == 1 else 4
    problem = None
    if header is None or header[1] is None:
        problem = "not an ICC profile"
    elif header[0] not in ("prtr", "mntr"):
        problem = f"device class {header[0]}"
    elif header[2] > max_version:
        problem = f"ICC version {header[2]} > {max_version}"
    elif isinstance(stream, pikepdf.Stream) and "/N" in stream and int(stream.N) != FAMILY_N[header[1]]:
        problem = f"N={int(stream.N)} for a {header[1]} profile"
    if problem:
        found.append(
            rule_finding(
                "output_intent_profile_invalid",
                "OutputIntent GTS_PDFA1 không có hồ sơ màu ICC hợp lệ.",
                "The GTS_PDFA1 OutputIntent has no valid ICC DestOutputProfile.",
                path,
                clause,
                problem=problem,
            )
        )
    return found


def check_colour_spaces(pdf: pikepdf.Pdf, usage: ContentUsage, profile: Profile, path: str) -> list[Finding]:
    """Device colour spaces need a matching OutputIntent; ICCBased spaces a valid profile."""
    family = output_intent_family(pdf)
    has_intent = family is not None
    found: list[Finding] = []
    for space in sorted(usage.device_spaces):
        allowed = has_intent if space == "Gray" else family == space
        if not allowed:
            found.append(
                rule_finding(
                    "device_colour_without_intent",
                    f"Dùng không gian màu Device{space} mà OutputIntent không tương ứng.",
                    f"Device{space} is used without a matching PDF/A OutputIntent.",
                    path,
                    _c(profile, "6.2.3.3", "6.2.4.3"),
                    space=f"Device{space}",
                    output_intent=family,
                )
            )
    bad_icc = 0
    seen: set[Any] = set()
    for stream in usage.iccbased:
        key = stream.objgen if stream.is_indirect else id(stream)
        if key in seen:
            continue
        seen.add(key)
        header = icc_header(stream)
        if header is None or header[1] is None or ("/N" in stream and int(stream.N) != FAMILY_N[header[1]]):
            bad_icc += 1
    if bad_icc:
        found.append(
            rule_finding(
                "icc_profile_invalid",
                "Không gian màu ICCBased có hồ sơ ICC không hợp lệ hoặc sai số thành phần N.",
                "An ICCBased colour space has an invalid ICC profile or a wrong N.",
                path,
                _c(profile, "6.2.3.2", "6.2.4.2"),
                count=bad_icc,
            )
        )
    bad_intents = sorted(usage.intents - INTENTS)
    if bad_intents:
        found.append(
            rule_finding(
                "rendering_intent",
                "Ý định kết xuất màu (rendering intent) không hợp lệ.",
                "A rendering intent is not one of the four ISO 32000 names.",
                path,
                _c(profile, "6.2.9", "6.2.5"),
                intents=bad_intents,
            )
        )
    return found


def check_graphics_state(pdf: pikepdf.Pdf, profile: Profile, path: str) -> list[Finding]:
    """Transfer functions, blend modes, and (PDF/A-1) any transparency."""
    reasons: set[str] = set()
    transfer = False
    blend: set[str] = set()
    if profile.part == 1:
        for page in pdf.pages:
            group = page.obj.get("/Group")
            if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
                reasons.add("page transparency group")
            for annot in page.obj.get("/Annots", pikepdf.Array()):
                if isinstance(annot, pikepdf.Dictionary) and "/CA" in annot and float(annot.CA) != 1.0:
                    reasons.add("annotation CA < 1")
    for res in resources_tree(pdf):
        if profile.part == 1:
            for xobj in res.get("/XObject", pikepdf.Dictionary()).values():
                if not isinstance(xobj, pikepdf.Stream):
                    continue
                if "/SMask" in xobj:
                    reasons.add("image soft mask")
                group = xobj.get("/Group")
                if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
                    reasons.add("form transparency group")
        for gs in res.get("/ExtGState", pikepdf.Dictionary()).values():
            if not isinstance(gs, pikepdf.Dictionary):
                continue
            if "/TR" in gs or ("/TR2" in gs and pikepdf.Name.Default != gs.TR2):
                transfer = True
            bm = gs.get("/BM")
            modes = [str(m) for m in bm] if isinstance(bm, pikepdf.Array) else ([str(bm)] if bm else [])
            blend |= {m for m in modes if m not in BLEND_MODES}
            if profile.part != 1:
                continue
            for key in ("/CA", "/ca"):
                if key in gs and float(gs[key]) < 1.0:
                    reasons.add(f"ExtGState {key.lstrip('/')} < 1")
            smask = gs.get("/SMask")
            if smask is not None and smask != pikepdf.Name("/None"):
                reasons.add("ExtGState soft mask")
            if any(m not in ("/Normal", "/Compatible") for m in modes):
                reasons.add("blend mode")
    found: list[Finding] = []
    if reasons:
        found.append(
            rule_finding(
                "transparency",
                "PDF/A-1 không cho phép hiệu ứng trong suốt.",
                "PDF/A-1 does not allow transparency.",
                path,
                "6.4",
                reasons=sorted(reasons),
            )
        )
    if blend:
        found.append(
            rule_finding(
                "blend_mode",
                "Chế độ hòa trộn (blend mode) không chuẩn.",
                "A blend mode is not one of the standard ones.",
                path,
                _c(profile, "6.4", "6.2.10"),
                modes=sorted(blend),
            )
        )
    if transfer:
        found.append(
            rule_finding(
                "transfer_function",
                "Trạng thái đồ họa dùng hàm chuyển (TR/TR2), không được phép trong PDF/A.",
                "A graphics state uses a transfer function (TR/TR2), which PDF/A forbids.",
                path,
                _c(profile, "6.2.8", "6.2.5"),
            )
        )
    return found
