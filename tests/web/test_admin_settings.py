"""Administration additions: trust anchors, retention schedules, replicas, office hours."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from archive.catalog import Event as EventRow
from archive.catalog import (
    EventType,
    FileCopy,
    Package,
    PackageKind,
    PackageState,
    RetentionSchedule,
    StoredFile,
)
from tests.web.conftest import Web, csrf_token

SCHEDULE = Path(__file__).resolve().parents[2] / "policies" / "data" / "general_schedule.csv"


def certificate(name: str, *, ca: bool) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM if ca else serialization.Encoding.DER)


def upload(client, path: str, field: str, data: bytes, filename: str, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, path)
    body = {"csrf_token": token, field: (io.BytesIO(data), filename), **form}
    return client.post(path, data=body, content_type="multipart/form-data", follow_redirects=True)


def test_trust_anchors_import_a_ca_and_refuse_a_leaf(web: Web) -> None:
    admin = web.signed_in("admin")
    html = upload(
        admin, "/admin/settings/trust", "certificate", certificate("Test Root CA", ca=True), "root.pem"
    )
    html_text = html.get_data(as_text=True)
    assert "CN=Test Root CA" in html_text and "Đã nhập chứng thư" in html_text
    stored = list(web.services.settings.trust_path.glob("*.pem"))
    assert len(stored) == 1 and f'data-anchor="{stored[0].stem}"' in html_text
    refused = upload(admin, "/admin/settings/trust", "certificate", certificate("Leaf", ca=False), "leaf.der")
    text = refused.get_data(as_text=True)
    assert "Refused" in text and "không phải CA" in text and "CN=Leaf" not in text
    assert len(list(web.services.settings.trust_path.iterdir())) == 1
    with web.services.session() as s:
        assert s.scalar(select(EventRow.id).where(EventRow.object_type == "trust_anchor")) is not None
    assert web.signed_in("luutru").get("/admin/settings/trust").status_code == 403


def test_retention_schedule_import_makes_one_version_per_content(web: Web) -> None:
    admin = web.signed_in("admin")
    data = SCHEDULE.read_bytes()
    form = {"code": "TT10-2022", "name": "Bảng thời hạn chung", "source": "TT 10/2022/TT-BNV"}
    html = upload(admin, "/admin/settings/schedules", "schedule", data, "general.csv", **form).get_data(
        as_text=True
    )
    assert "phiên bản 1" in html and 'data-schedule="TT10-2022@1"' in html
    html = upload(admin, "/admin/settings/schedules", "schedule", data, "general.csv", **form).get_data(
        as_text=True
    )
    assert "không thay đổi" in html
    bad = b"series,maintenance,years\nabc,99,x\n"
    html = upload(admin, "/admin/settings/schedules", "schedule", bad, "bad.csv", **form).get_data(
        as_text=True
    )
    assert "flash-error" in html and "retention." in html
    with web.services.session() as s:
        assert len(s.scalars(select(RetentionSchedule)).all()) == 1
        assert s.scalar(select(EventRow.id).where(EventRow.type == EventType.POLICY_ASSIGNMENT)) is not None


def test_replicas_show_copies_and_bytes(web: Web) -> None:
    with web.services.sessions.begin() as s:
        pkg = Package(kind=PackageKind.AIP, state=PackageState.STORED, storage_key="aip/x/v0001")
        f = StoredFile(path="data/a.pdf", size=1234, sha256="0" * 64)
        f.copies = [FileCopy(replica=r.name, key="aip/x/v0001/data/a.pdf") for r in web.services.replicas]
        pkg.files.append(f)
        s.add(pkg)
    html = web.signed_in("admin").get("/admin/settings/replicas").get_data(as_text=True)
    for replica in web.services.replicas:
        assert f'data-replica="{replica.name}"' in html and str(replica.describe()["location"]) in html
    assert html.count("data-bytes>1234<") == 2 and html.count("data-copies>1<") == 2


def test_office_hours_show_the_toml_lines_and_test_a_time(web: Web) -> None:
    admin = web.signed_in("admin")
    html = admin.get("/admin/settings/office-hours").get_data(as_text=True)
    assert "office_hours = [&#34;07:30-11:30&#34;, &#34;13:00-17:00&#34;]" in html
    html = admin.get("/admin/settings/office-hours?at=2025-09-05T18:00").get_data(
        as_text=True
    )  # a Friday evening
    assert "2025-09-08T07:30:00+07:00" in html
    assert "Ngày giờ không hợp lệ" in admin.get("/admin/settings/office-hours?at=hôm-qua").get_data(
        as_text=True
    )
