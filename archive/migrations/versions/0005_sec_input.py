"""one live submission per agency and content (two identical submissions at once: one wins)

Revision ID: 0005_sec_input
Revises: 0004_preservation
Create Date: 2026-12-04 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sec_input"
down_revision: str | None = "0004_preservation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("content_digest IS NOT NULL AND state NOT IN ('rejected', 'withdrawn')")


def upgrade() -> None:
    # A catalog where two identical receipts raced before this index holds two live rows with
    # one digest; the index then cannot be built and the upgrade stops (resolve by hand: withdraw
    # the later one with `luutru submission withdraw`, which records the event).
    op.create_index(
        "uq_submission_live_content",
        "submission",
        ["agency_id", "content_digest"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_submission_live_content", table_name="submission")
