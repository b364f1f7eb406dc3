"""The edge's database: transcoding jobs, shared by every gunicorn worker and the worker process."""
import json
import secrets
import time

from peewee import (BooleanField, CharField, DatabaseProxy, FloatField, IntegerField, Model, SqliteDatabase,
                    TextField, fn)
from playhouse.migrate import SqliteMigrator, migrate

db = DatabaseProxy()

STATES = ("queued", "running", "published", "failed")
# What a running job does: packaging its upload, or (its package published here) registering it
# with the tracker, which may be away for a while (edge/jobs.py).
STAGES = ("transcoding", "registering")


def init_db(path):
    database = SqliteDatabase(path, timeout=30, pragmas={
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,  # several processes write: wait for the lock rather than fail
    })
    db.initialize(database)
    with database.connection_context():
        database.create_tables([Job, Hold, Drop, Denied], safe=True)
        add_new_columns(database, Job)
        add_new_columns(database, Drop)
    return database


def add_new_columns(database, model):
    """Add the columns a data dir made by an older edge lacks (each has a default or is nullable).
    Every worker process starts this; the write lock makes the first one do it and the rest see it."""
    table = model._meta.table_name
    with database.atomic("IMMEDIATE"):
        present = {column.name for column in database.get_columns(table)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in present]
        if missing:
            migrator = SqliteMigrator(database)
            migrate(*(migrator.add_column(table, field.column_name, field) for field in missing))


class Job(Model):
    id = CharField(primary_key=True)
    state = CharField(default="queued", index=True)
    progress = FloatField(default=0.0)
    eta = FloatField(null=True)
    error = TextField(null=True)
    error_status = IntegerField(null=True)
    video_id = CharField(null=True)
    upload = CharField(index=True)  # the tracker's upload id, from the ticket
    ticket = TextField()  # the ticket's payload, JSON
    size = IntegerField()  # bytes received
    created = FloatField(default=time.time)
    updated = FloatField(default=time.time)
    stage = CharField(null=True)  # while running: one of STAGES
    starts = IntegerField(default=0)  # times its packaging was started: an edge that dies on it gives up
    owns_package = BooleanField(default=False)  # its package made the video's folder (it was not here)
    register_tries = IntegerField(default=0)
    retry_at = FloatField(null=True)  # when the next registration try is due
    message = TextField(null=True)  # why it is waiting (the tracker's last failure)

    class Meta:
        database = db
        table_name = "jobs"

    @staticmethod
    def new_id():
        return secrets.token_urlsafe(12)

    @classmethod
    def queue(cls, job_id, ticket, size):
        return cls.create(id=job_id, upload=str(ticket["upload"]), ticket=json.dumps(ticket), size=size)

    @classmethod
    def find(cls, job_id):
        return cls.get_or_none(cls.id == job_id)

    @classmethod
    def upload_in_use(cls, upload):
        """True when a ticket's upload already has a job that is not failed (tickets are single-use)."""
        return cls.select().where((cls.upload == str(upload)) & (cls.state != "failed")).exists()

    @classmethod
    def claim(cls, job_id):
        """Move a queued job to running; True only for the one caller whose UPDATE changed the row."""
        changed = (cls.update(state="running", stage="transcoding", progress=0.0, starts=cls.starts + 1,
                              updated=time.time())
                   .where((cls.id == job_id) & (cls.state == "queued")).execute())
        return changed == 1

    @classmethod
    def queued_ids(cls, limit=8):
        """The oldest queued jobs' ids (a list: no read cursor stays open during a long job)."""
        query = cls.select(cls.id).where(cls.state == "queued").order_by(cls.created).limit(limit)
        return [job_id for (job_id,) in query.tuples()]

    @classmethod
    def running_ids(cls):
        return [job_id for (job_id,) in cls.select(cls.id).where(cls.state == "running").tuples()]

    @classmethod
    def transcoding_ids(cls):
        """Running jobs that are packaging: a process must hold their lock all along."""
        query = cls.select(cls.id).where((cls.state == "running")
                                         & (cls.stage.is_null() | (cls.stage != "registering")))
        return [job_id for (job_id,) in query.tuples()]

    @classmethod
    def registrations_due(cls, now, limit=8):
        """Jobs whose published package waits for a registration try that is due."""
        query = (cls.select(cls.id).where((cls.state == "running") & (cls.stage == "registering")
                                          & (cls.retry_at <= now)).order_by(cls.retry_at).limit(limit))
        return [job_id for (job_id,) in query.tuples()]

    def registration_due(self, now):
        return self.state == "running" and self.stage == "registering" and self.retry_at <= now

    @classmethod
    def requeue(cls, job_id):
        return (cls.update(state="queued", stage=None, progress=0.0, eta=None, updated=time.time())
                .where((cls.id == job_id) & (cls.state == "running")).execute()) == 1

    @classmethod
    def counts(cls):
        counts = dict.fromkeys(STATES, 0)
        for state, count in cls.select(cls.state, fn.COUNT(cls.id)).group_by(cls.state).tuples():
            counts[state] = count
        return counts

    @property
    def ticket_payload(self):
        return json.loads(self.ticket)

    def _set(self, **fields):
        fields["updated"] = time.time()
        type(self).update(**fields).where(type(self).id == self.id).execute()
        for name, value in fields.items():
            setattr(self, name, value)

    def report(self, progress, eta=None):
        self._set(progress=min(max(float(progress), 0.0), 1.0), eta=eta)

    def await_registration(self, video_id, owns_package, now):
        """Its package is published here; from now on only the tracker's registration is missing."""
        self._set(stage="registering", progress=1.0, eta=None, video_id=video_id, owns_package=owns_package,
                  retry_at=now)

    def retry_registration(self, at, message):
        self._set(retry_at=at, message=message, register_tries=self.register_tries + 1)

    def publish(self, video_id):
        self._set(state="published", stage=None, progress=1.0, eta=None, video_id=video_id, message=None,
                  retry_at=None)

    def fail(self, message, status=500):
        self._set(state="failed", stage=None, eta=None, error=message, error_status=status, message=None,
                  retry_at=None)

    def as_json(self):
        answer = {"job": self.id, "state": self.state, "progress": self.progress}
        if self.state == "running":
            answer["stage"] = self.stage or "transcoding"
            if self.message:
                answer["message"] = self.message
            if self.stage == "registering" and self.retry_at is not None:
                answer["retry_at"] = self.retry_at
        if self.state == "running" and self.eta is not None:
            answer["eta"] = self.eta
        if self.video_id:
            answer["video_id"] = self.video_id
        if self.state == "failed":
            answer["error"] = self.error
            answer["error_status"] = self.error_status  # the HTTP status the failure maps to
        return answer


class Hold(Model):
    """Bytes promised to something still arriving (a form or tus upload, a replica), so that two
    transfers in flight cannot both count on the same free space. The holder keeps `JobLock(id)`
    while it works; a hold whose lock is free was left by a dead process (see edge/capacity.py)."""
    id = CharField(primary_key=True)
    kind = CharField()  # "form", "tus" or "replica"
    size = IntegerField()  # bytes promised: the declared upload length, or the package size
    upload = CharField(null=True, index=True)  # the tracker's upload id, from the ticket
    ticket = TextField(null=True)  # the ticket's payload, JSON
    filename = TextField(default="")
    expires = FloatField()  # its ticket's expiry: a tus upload may be resumed until then
    created = FloatField(default=time.time)

    class Meta:
        database = db
        table_name = "holds"

    @classmethod
    def resumable(cls, upload_id, now):
        """The tus upload `upload_id` if its ticket has not expired, else None."""
        return cls.get_or_none((cls.id == upload_id) & (cls.kind == "tus") & (cls.expires > now))

    @property
    def ticket_payload(self):
        return json.loads(self.ticket)


class Drop(Model):
    """A video this edge asked its trackers to move elsewhere: only these may be deleted on their word."""
    video_id = CharField(primary_key=True)
    requested = FloatField(default=time.time)
    # JSON list of the URLs of the trackers that took the request and have not sent `delete` yet;
    # null in a row from a single-tracker edge (its one tracker's word is enough).
    waiting = TextField(null=True)

    class Meta:
        database = db
        table_name = "drops"


class Denied(Model):
    """A video this edge's operator refuses to store, pull or serve, whatever a tracker says (edge/deny.py)."""
    video_id = CharField(primary_key=True)
    reason = TextField(default="")
    created = FloatField(default=time.time)

    class Meta:
        database = db
        table_name = "denied"

    def as_json(self):
        return {"video_id": self.video_id, "reason": self.reason, "created": self.created}
