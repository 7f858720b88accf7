"""format policy (preservation): PRONOM PUID → risk and action, versioned like retention schedules

Revision ID: 0003_preservation
Revises: 0003_sec_evidence
Create Date: 2026-12-04 18:14:18.681785
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import archive.catalog.base


revision: str = "0003_preservation"
down_revision: str | None = "0003_sec_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "format_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("superseded_at", archive.catalog.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", archive.catalog.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_format_policy")),
        sa.UniqueConstraint("version", name=op.f("uq_format_policy_version")),
    )
    op.create_table(
        "format_policy_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("puid", sa.String(length=30), nullable=False),
        sa.Column("format_name", sa.String(length=200), nullable=False),
        sa.Column(
            "risk",
            sa.Enum("low", "medium", "high", name="formatrisk", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "action",
            sa.Enum(
                "keep", "preservation_copy", "access_copy", name="formataction", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=30), nullable=True),
        sa.Column("tool", sa.String(length=30), nullable=True),
        sa.Column("copy_signed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["format_policy.id"],
            name=op.f("fk_format_policy_rule_policy_id_format_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_format_policy_rule")),
        sa.UniqueConstraint("policy_id", "puid", name="uq_format_policy_rule_puid"),
    )


def downgrade() -> None:
    op.drop_table("format_policy_rule")
    op.drop_table("format_policy")
