"""api upload sessions (resumable chunked uploads through the REST API)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.catalog.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_upload",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("metadata_doc", _JSON, nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "finalised", "abandoned", name="uploadstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", archive.catalog.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finalised_at", archive.catalog.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_api_upload_agency_id_agency")),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_api_upload_token_id_api_token")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_api_upload_submission_id_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_upload")),
        sa.UniqueConstraint("agency_id", "idempotency_key", name="uq_api_upload_agency_idempotency"),
    )
    with op.batch_alter_table("api_upload", schema=None) as batch_op:
        batch_op.create_index("ix_api_upload_agency_created", ["agency_id", "created_at"], unique=False)
    op.create_table(
        "api_upload_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=False),
        sa.Column("declared_size", sa.BigInteger(), nullable=True),
        sa.Column("expected_size", sa.BigInteger(), nullable=True),
        sa.Column("received_bytes", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["api_upload.id"],
            name=op.f("fk_api_upload_file_upload_id_api_upload"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_upload_file")),
        sa.UniqueConstraint("upload_id", "path", name="uq_api_upload_file_path"),
    )


def downgrade() -> None:
    op.drop_table("api_upload_file")
    with op.batch_alter_table("api_upload", schema=None) as batch_op:
        batch_op.drop_index("ix_api_upload_agency_created")
    op.drop_table("api_upload")
