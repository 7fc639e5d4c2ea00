"""A revision counter of the public content (streefwaarden, interventions, local values).

``content_revision`` holds one row whose ``revision`` the database itself raises, by triggers,
on every INSERT, UPDATE and DELETE (and TRUNCATE on PostgreSQL) of the tables whose rows the
public area page shows. The site keeps the rendered section of the editable store per area and
revision, and asks for the revision (one indexed row) instead of reading three tables per
request; because the triggers are in the database, a write by any route (the beheer forms, the
``local`` CLI, an administrator's SQL) changes it. Accounts, sessions, the login throttle and
the audit log are not public content and have no trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: The tables whose rows the public area page shows (wijkmonitor.local.public.area_section).
CONTENT_TABLES = ("targets", "target_milestones", "interventions", "intervention_areas",
                  "intervention_indicators", "intervention_links", "local_uploads", "local_values")
_BUMP = "UPDATE content_revision SET revision = revision + 1 WHERE id = 1"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('content_revision',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_revision'))
    )
    op.execute("INSERT INTO content_revision (id, revision) VALUES (1, 0)")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE FUNCTION wijkmonitor_content_revision_bump() RETURNS trigger AS $$ BEGIN "
                   f"{_BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql")
        for table in CONTENT_TABLES:
            # once per statement: a bulk upload raises it once, not once per row
            op.execute(f"CREATE TRIGGER {table}_content_revision AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION wijkmonitor_content_revision_bump()")
    elif dialect == "sqlite":
        for table in CONTENT_TABLES:
            for verb in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_content_revision_{verb.lower()} AFTER {verb} "
                           f"ON {table} BEGIN {_BUMP}; END")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in CONTENT_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_content_revision ON {table}")
        op.execute("DROP FUNCTION IF EXISTS wijkmonitor_content_revision_bump()")
    elif dialect == "sqlite":
        for table in CONTENT_TABLES:
            for verb in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_content_revision_{verb.lower()}")
    op.drop_table('content_revision')
