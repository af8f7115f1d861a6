"""Initial schema: people, households, addresses, the town's facilities, agents, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite: an FTS5 index over person.search_text, kept in step by triggers.
# Prefix indexes for 1-3 letters keep short prefixes from scanning every term.
SQLITE_SEARCH = (
    """
    CREATE VIRTUAL TABLE person_fts USING fts5(
        search_text, content='person', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
    )
    """,
    """
    CREATE TRIGGER person_fts_insert AFTER INSERT ON person BEGIN
        INSERT INTO person_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER person_fts_delete AFTER DELETE ON person BEGIN
        INSERT INTO person_fts(person_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    """
    CREATE TRIGGER person_fts_update AFTER UPDATE OF search_text ON person BEGIN
        INSERT INTO person_fts(person_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO person_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
)

# PostgreSQL: its own text search, a generated tsvector with a GIN index
# ('simple' configuration: the tokens are already folded, nothing to stem).
# fastupdate off: a counter reads far more than it writes, and GIN's pending
# list (scanned linearly by every query until a vacuum) cost 5 ms per search.
POSTGRES_SEARCH = (
    """
    ALTER TABLE person ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED
    """,
    "CREATE INDEX ix_person_search_vector ON person USING gin (search_vector) WITH (fastupdate = off)",
)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "agent",
        _id(),
        sa.Column("login", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "street",
        _id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("city", sa.String(80), nullable=False),
    )
    op.create_table(
        "address",
        _id(),
        sa.Column("street_id", sa.Integer(), sa.ForeignKey("street.id"), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("suffix", sa.String(10), nullable=True),
        sa.Column("complement", sa.String(120), nullable=True),
        sa.Column("line", sa.String(160), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("city", sa.String(80), nullable=False),
    )
    op.create_index("ix_address_street_id", "address", ["street_id"])
    op.create_table(
        "person",
        _id(),
        sa.Column("birth_name", sa.String(120), nullable=False),
        sa.Column("usage_name", sa.String(120), nullable=True),
        sa.Column("given_names", sa.String(200), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("birth_insee_code", sa.String(5), nullable=True),
        sa.Column("birth_country_code", sa.String(5), nullable=False),
        sa.Column("nir", sa.String(15), nullable=True, unique=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("france_travail_id", sa.String(12), nullable=True),
        sa.Column("search_text", sa.String(), nullable=False),
    )
    op.create_index("ix_person_birth", "person", ["birth_year", "birth_month", "birth_day"])
    op.create_index("ix_person_france_travail_id", "person", ["france_travail_id"])
    op.create_table(
        "household",
        _id(),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("address.id"), nullable=True),
        sa.Column("caf_number", sa.String(7), nullable=True),
    )
    op.create_index("ix_household_address_id", "household", ["address_id"])
    op.create_index("ix_household_caf_number", "household", ["caf_number"])
    op.create_table(
        "household_member",
        _id(),
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("address.id"), nullable=True),
        sa.UniqueConstraint("household_id", "person_id"),
    )
    op.create_index("ix_household_member_household_id", "household_member", ["household_id"])
    op.create_index("ix_household_member_person_id", "household_member", ["person_id"])
    op.create_table(
        "school",
        _id(),
        sa.Column("uai", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("address.id"), nullable=True),
    )
    op.create_table(
        "school_sector",
        _id(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("maternelle_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=True),
        sa.Column("elementaire_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=True),
    )
    op.create_table(
        "sector_rule",
        _id(),
        sa.Column("street_id", sa.Integer(), sa.ForeignKey("street.id"), nullable=False),
        sa.Column("number_from", sa.Integer(), nullable=False),
        sa.Column("number_to", sa.Integer(), nullable=False),
        sa.Column("parity", sa.String(4), nullable=False),
        sa.Column("sector_id", sa.Integer(), sa.ForeignKey("school_sector.id"), nullable=False),
    )
    op.create_index("ix_sector_rule_street_id", "sector_rule", ["street_id"])
    op.create_table(
        "creche",
        _id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("address.id"), nullable=True),
    )
    op.create_table(
        "library_branch",
        _id(),
        sa.Column("code", sa.String(10), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("address.id"), nullable=True),
    )
    op.create_table(
        "search_token",
        sa.Column("token", sa.String(120), primary_key=True),
        sa.Column("phonetic", sa.String(120), nullable=False),
    )
    op.create_index("ix_search_token_phonetic", "search_token", ["phonetic"])
    op.create_table(
        "search_token_delete",
        sa.Column("variant", sa.String(120), primary_key=True),
        sa.Column("token", sa.String(120), primary_key=True),
    )

    statements = {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRES_SEARCH}
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("person_fts_insert", "person_fts_delete", "person_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS person_fts")
    for table in (
        "search_token_delete", "search_token", "library_branch", "creche", "sector_rule",
        "school_sector", "school", "household_member", "household", "person", "address",
        "street", "agent",
    ):
        op.drop_table(table)
