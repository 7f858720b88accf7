"""The visibility contract itself (archive/visibility.py), as search relies on it."""

from __future__ import annotations

import pytest

from archive.visibility import Visibility


@pytest.mark.parametrize(
    ("mode", "metadata", "content"),
    [("01", True, True), ("02", True, False), ("03", False, False), (None, False, False)],
)
def test_public(mode: str | None, metadata: bool, content: bool) -> None:
    vis = Visibility.public()
    assert vis.metadata_visible(mode, "UBND") is metadata
    assert vis.content_visible(mode, "UBND") is content
    assert not vis.unrestricted


def test_everything_and_agencies() -> None:
    assert Visibility.everything().unrestricted
    assert Visibility.everything().content_visible("03", None)
    own = Visibility.of(content_modes=None, metadata_modes=None, agencies={"SNV"})
    assert own.content_visible("03", "SNV")
    assert not own.metadata_visible("01", "UBND")
    nothing = Visibility.of(content_modes=[], metadata_modes=["01"])
    assert nothing.metadata_visible("01", "X") and not nothing.content_visible("01", "X")
    with pytest.raises(AttributeError):
        own.agencies = None  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["01", "02", "03", None])
def test_a_grant_opens_its_dossier_whatever_the_mode_and_agency(mode: str | None) -> None:
    vis = Visibility.of(
        content_modes=["01"], metadata_modes=["01", "02"], agencies=["SNV"], granted_dossiers=[4]
    )
    assert vis.metadata_visible(mode, "UBND", 4) and vis.content_visible(mode, "UBND", 4)
    assert vis.content_visible(mode, "SNV", 5) is (mode == "01")
    assert vis.metadata_visible(mode, "SNV", 5) is (mode in ("01", "02"))
    assert not vis.metadata_visible(mode, "UBND", 5) and not vis.content_visible(mode, "UBND", None)


def test_grants_default_to_none_and_are_frozen_ints() -> None:
    assert Visibility.public().granted_dossiers == frozenset()
    assert not Visibility.public().granted(None) and not Visibility.public().granted(1)
    vis = Visibility.of(content_modes=["01"], metadata_modes=["01"], granted_dossiers=[3, 3, 7])
    assert vis.granted_dossiers == frozenset({3, 7}) and vis.granted(7)
    assert not vis.unrestricted  # grants never make a visibility unrestricted
    assert Visibility.of(None, None, granted_dossiers=[3]).unrestricted
