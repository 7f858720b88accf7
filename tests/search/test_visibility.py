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
