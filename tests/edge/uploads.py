"""A form upload to the edge on Flask's test client, and what a refused one must leave behind: nothing."""
import io
import os

from edge.models import Job, db


def send(client, ticket, data=b"not really a video", fields=None):
    form = {"ticket": ticket, **(fields or {})} if ticket is not None else dict(fields or {})
    if data is not None:
        form["file"] = (io.BytesIO(data), "clip.mp4", "video/mp4")
    return client.post("/api/v1/uploads", data=form, content_type="multipart/form-data")


def nothing_stored(node):
    with db.connection_context():
        return os.listdir(node.uploads) == [] and Job.select().count() == 0
