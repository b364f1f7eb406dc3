"""A form upload to the edge on Flask's test client, and what a refused one must leave behind: nothing."""
import io
import os

from edge.models import Job, db
from tests.edge.faketracker import make_ticket


def send(client, ticket, data=b"not really a video", fields=None):
    form = {"ticket": ticket, **(fields or {})} if ticket is not None else dict(fields or {})
    if data is not None:
        form["file"] = (io.BytesIO(data), "clip.mp4", "video/mp4")
    return client.post("/api/v1/uploads", data=form, content_type="multipart/form-data")


def nothing_stored(node):
    with db.connection_context():
        return os.listdir(node.uploads) == [] and Job.select().count() == 0


def queue_upload(client, node, upload="up-1"):
    """A small upload with a valid ticket, received whole: returns its queued job's id."""
    answer = send(client, make_ticket(node, size=100, upload=upload), data=b"v" * 100)
    assert answer.status_code == 202, answer.json
    return answer.json["job"]
