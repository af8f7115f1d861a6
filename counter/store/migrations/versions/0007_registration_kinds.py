"""Kinds of registration are plugins: a registration's kind holds any installed kind's id.

``registration.kind`` widens from 10 to 32 characters (counter.domain.kinds.MAX_KIND_ID);
the ids already stored (school, creche, library) are the built-in kinds' own and stay as
they are. SQLite does not enforce a VARCHAR's length: only PostgreSQL's column changes
(a change of its declared type, no row rewritten); SQLite's table is left alone rather
than rebuilt for a length SQLite never checks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("registration", "kind", type_=sa.String(32), existing_type=sa.String(10),
                        existing_nullable=False)


def downgrade() -> None:
    # Refused by PostgreSQL while a registration's kind is longer than 10 characters.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("registration", "kind", type_=sa.String(10), existing_type=sa.String(32),
                        existing_nullable=False)
