"""The dashboard's figures come from real catalog rows; empty charts say so."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from archive.catalog import (
    Agency,
    CopyStatus,
    Dossier,
    FileCopy,
    Package,
    PackageKind,
    PackageState,
    RecordState,
    StoredFile,
    Submission,
    SubmissionState,
)
from archive.vntime import utcnow
from luutru.web.dashboard import build_dashboard

from .conftest import OTHER_AGENCY, Web


def _fill(web: Web) -> None:
    now = utcnow()
    with web.services.sessions.begin() as s:
        agency = s.scalar(select(Agency).where(Agency.code == OTHER_AGENCY))
        assert agency is not None
        review = s.get(Dossier, web.dossiers[f"{OTHER_AGENCY}-01"])
        assert review is not None
        review.state = RecordState.UNDER_REVIEW
        for state in (SubmissionState.IN_REVIEW, SubmissionState.IN_REVIEW, SubmissionState.ARCHIVED):
            s.add(Submission(agency_id=agency.id, state=state))
        package = Package(
            kind=PackageKind.AIP, state=PackageState.STORED, dossier_id=review.id, storage_key="aip/x/v0001"
        )
        s.add(package)
        s.flush()
        sizes = (1000, 2000, 4000)
        files = [
            StoredFile(package_id=package.id, path=f"data/{i}.pdf", size=n, sha256="0" * 64)
            for i, n in enumerate(sizes)
        ]
        s.add_all(files)
        s.flush()
        r1 = [(CopyStatus.OK, now), (CopyStatus.OK, now - timedelta(days=200)), (CopyStatus.DAMAGED, now)]
        r2 = [
            (CopyStatus.OK, None),
            (CopyStatus.MISSING, now - timedelta(days=1)),
            (CopyStatus.DELETED, None),
        ]
        for replica, statuses in (("r1", r1), ("r2", r2)):
            for f, (status, verified) in zip(files, statuses, strict=True):
                s.add(
                    FileCopy(
                        file_id=f.id, replica=replica, key=f.path, status=status, last_verified_at=verified
                    )
                )


def test_dashboard_figures_are_real_queries(web: Web) -> None:
    _fill(web)
    now = utcnow()
    with web.services.session() as s:
        board = build_dashboard(s, now, 90)
    years = {(h.agency_code, h.year): h.dossiers for h in board.holdings}
    assert years[(OTHER_AGENCY, 2023)] == 3  # the destroyed dossier is not a holding
    assert sum(board.submissions.values()) == 3
    assert board.submissions[SubmissionState.IN_REVIEW] == 2
    assert board.submissions[SubmissionState.REJECTED] == 0
    r1, r2 = board.replicas
    assert (r1.replica, r1.ok, r1.damaged, r1.missing, r1.overdue) == ("r1", 2, 1, 0, 1)
    assert (r2.replica, r2.ok, r2.damaged, r2.missing, r2.overdue) == (
        "r2",
        1,
        0,
        1,
        1,
    )  # deleted copy left out
    assert r1.oldest_verified_at is not None and now - r1.oldest_verified_at > timedelta(days=199)
    assert board.storage == {"r1": 7000, "r2": 3000}
    assert board.due_for_disposal == 1


def test_dashboard_page_draws_the_charts(web: Web) -> None:
    _fill(web)
    client = web.signed_in("luutru")
    html = client.get("/console/").get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    assert 'data-figure="due-for-disposal">1<' in html
    assert 'data-figure="overdue">2<' in html
    assert "6.8 KiB" in html  # r1 storage
    assert 'data-replica="r2"' in html
    assert "Chưa có dữ liệu" not in html
    assert "+07:00" in html  # oldest verification shown in Vietnam time


def test_empty_catalog_says_no_data_yet(web: Web) -> None:
    with web.services.sessions.begin() as s:
        for d in s.scalars(select(Dossier)):
            d.state = RecordState.DESTROYED
    client = web.signed_in("kiemtra")
    html = client.get("/console/").get_data(as_text=True)
    assert html.count("Chưa có dữ liệu") == 4
    assert "No data yet" in client.get("/console/?lang=en").get_data(as_text=True)
