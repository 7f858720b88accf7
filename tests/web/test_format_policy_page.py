"""Console page of the format policy: holdings by format and risk, read-only for archivists,
edited by administrators into a new version that lists the dossiers it affects."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from archive.catalog import FileRole, FormatAction, Package, PackageKind, PackageState, StoredFile
from policies.format_policy import current_policy
from tests.web.conftest import Web, csrf_token

PAGE = "/console/preservation/policy"


def _form(html: str) -> list[tuple[str, str]]:
    """The rule rows of the page's form as (name, value) pairs, as a browser would send them."""
    pairs: list[tuple[str, str]] = []
    for row in re.findall(r"<tr>\s*<td><input name=\"puid\".*?</tr>", html, re.S):
        puid = re.search(r'name="puid" value="([^"]*)"', row)
        name = re.search(r'name="format_name" value="([^"]*)"', row)
        assert puid and name
        pairs += [("puid", puid.group(1)), ("format_name", name.group(1))]
        for field in ("risk", "action", "target", "tool"):
            select_html = re.search(rf'<select name="{field}".*?</select>', row, re.S)
            assert select_html
            chosen = re.search(r'<option (?:value="([^"]*)" )?selected>([^<]*)<', select_html.group(0))
            pairs.append((field, (chosen.group(1) or chosen.group(2)) if chosen else ""))
        if re.search(r'name="copy_signed" value="[^"]*" checked', row):
            pairs.append(("copy_signed", puid.group(1)))
    return pairs


def test_archivist_sees_the_policy_and_holdings_but_cannot_edit(web: Web) -> None:
    with web.services.sessions.begin() as s:  # one dossier holds a .docx (catalog rows only)
        pkg = Package(kind=PackageKind.AIP, state=PackageState.STORED, storage_key="aip/x/v0001")
        pkg.dossier_id = next(iter(web.dossiers.values()))
        docx = StoredFile(
            path="data/cv.docx", role=FileRole.ORIGINAL, size=1, sha256="0" * 64, puid="fmt/412"
        )
        pkg.files = [docx]
        s.add(pkg)
    client = web.signed_in("luutru")
    html = client.get(PAGE).get_data(as_text=True)
    assert "<h1>Chính sách định dạng</h1>" in html
    assert 'data-puid="fmt/412"' in html and "pdfa-2b (libreoffice)" in html
    assert "Lưu thành phiên bản mới" not in html
    assert client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE)}).status_code == 403


def test_admin_changes_a_rule_into_a_new_version(web: Web) -> None:
    client = web.signed_in("admin")
    html = client.get(PAGE).get_data(as_text=True)
    pairs = _form(html)
    assert ("puid", "fmt/412") in pairs
    i = pairs.index(("puid", "fmt/412"))
    action_at = next(j for j in range(i, len(pairs)) if pairs[j][0] == "action")
    pairs[action_at] = ("action", "access_copy")
    body = [("csrf_token", csrf_token(client, PAGE)), ("note", "DOCX chỉ cần bản khai thác"), *pairs]
    r = client.post(PAGE, data=MultiDict(body), follow_redirects=True)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "phiên bản 2" in text
    with web.services.session() as s:
        policy = current_policy(s)
        assert policy is not None and policy.version == 2 and policy.note == "DOCX chỉ cần bản khai thác"
        docx = next(rule for rule in policy.rules if rule.puid == "fmt/412")
        assert docx.action is FormatAction.ACCESS_COPY
        assert len(policy.rules) > 30  # every other row came back unchanged
    bad = [("csrf_token", csrf_token(client, PAGE)), ("puid", "docx"), ("risk", "low"), ("action", "keep")]
    text = client.post(PAGE, data=MultiDict(bad), follow_redirects=True).get_data(as_text=True)
    assert "mã PRONOM không hợp lệ" in text
