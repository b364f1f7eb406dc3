"""Every table of the tracker, created in one place, before any request is served.

gunicorn's master runs this once before it forks (tracker.prepare, from gunicorn.conf.py's
on_starting); each worker's create_app runs it again, and the lock lets one process create while
the others find the tables there, on this machine and (PostgreSQL) on every other sharing the database.
"""
from playhouse.migrate import SchemaMigrator, migrate

from .catalog import changes, search
from .catalog.models import MODELS as CATALOG_MODELS
from .channels.models import MODELS as CHANNEL_MODELS
from .db import database, schema_lock, write_transaction
from .flags.models import MODELS as FLAG_MODELS
from .gossip.follow import MODELS as FOLLOW_MODELS
from .ledger.models import MODELS as LEDGER_MODELS
from .nodes.models import MODELS as NODE_MODELS
from .nodes.replication import MODELS as REPLICATION_MODELS
from .nodes.reports import MODELS as REPORT_MODELS
from .nodes.sockets import MODELS as SOCKET_MODELS
from .signers import MODELS as SIGNER_MODELS

MODELS = CATALOG_MODELS + changes.MODELS + NODE_MODELS + REPORT_MODELS + REPLICATION_MODELS + LEDGER_MODELS \
    + SIGNER_MODELS + CHANNEL_MODELS + FLAG_MODELS + FOLLOW_MODELS + SOCKET_MODELS


def create_all(app):
    """Create the missing tables and the search index in the app's database."""
    with schema_lock(app.config["SLIPSTREAM_DATA_DIR"]):
        add_missing_columns()
        database.create_tables(MODELS, safe=True)
        search.create_index()
        with app.app_context(), write_transaction():
            changes.backfill()  # it signs with the app's key


def add_missing_columns():
    """Columns a model gained after its table was made (an upgraded tracker keeps its data): added
    with their defaults. Every column added since the first release is nullable or has a default.
    A column a model has since made optional (a posting's donation, now that payouts post too) loses
    its NOT NULL."""
    migrator = SchemaMigrator.from_database(database.obj)
    for model in MODELS:
        if not model.table_exists():
            continue
        table = model._meta.table_name
        have = {column.name: column for column in database.get_columns(table)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in have]
        relaxed = [field for field in model._meta.sorted_fields
                   if field.null and field.column_name in have and not have[field.column_name].null]
        operations = [migrator.add_column(table, f.column_name, f) for f in missing]
        operations += [migrator.drop_not_null(table, f.column_name) for f in relaxed]
        if operations:
            migrate(*operations)
