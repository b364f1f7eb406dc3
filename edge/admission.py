"""Which request bodies the edge lets past memory onto its disk (runtime/bodies.py's `admit`).

The event loop receives each body before Flask sees it; past SPOOL_MEMORY (256 KiB) it would have
to go to disk, and a stranger's bytes never do: only an upload with a valid ticket is spooled.
- `POST /api/v1/uploads`, a multipart form: its `ticket` field, which must come before the `file`
  part (edge/receive.py), has to check out (signed by our tracker, for this edge, unexpired) and be
  unused, all within the form's first 256 KiB, and the ticket's size has to fit on this edge now
  (edge/capacity.py), twice on the disk (spool and file): an upload the disk cannot take is refused
  507 before its body fills it.
- `PATCH /api/v1/uploads/<id>`, a tus upload's bytes: the id must be a resumable upload in progress,
  which only a ticket's creation makes (edge/tus.py).
Any other large body is refused. The app checks everything again on the whole request; this only
decides what is worth receiving.
"""
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Field, File, MultipartDecoder, NeedData

from .capacity import check_room, check_unused
from .errors import NOT_FOUND_MESSAGE, ApiError
from .models import Hold, db
from .receive import FIELD_LIMIT, MAX_PARTS
from .tickets import check_ticket
from .tus import UPLOAD_ID

UPLOADS = "/api/v1/uploads"


class Admission:
    """`admit(scope, head)` for the edge's FlaskOnThreads: None to receive the rest, or an ApiError."""

    def __init__(self, node, extensions):
        self.node, self.extensions = node, extensions

    def __call__(self, scope, head):
        try:
            with db.connection_context():
                self._check(scope["method"], scope["path"], dict(scope["headers"]), head)
        except ApiError as refusal:
            return refusal
        return None

    def _check(self, method, path, headers, head):
        if method == "POST" and path == UPLOADS and b"tus-resumable" not in headers:
            ticket = form_ticket(headers.get(b"content-type", b"").decode("latin-1"), head)
            payload = check_ticket(self.node, ticket, on_tasks=self.extensions["edge.tasks"])
            check_unused(str(payload["upload"]))
            # The whole form waits in the spool file while the app copies its file part out: on
            # the disk, the upload needs its room twice over until it is whole.
            check_room(self.node, payload["size"], spooled=payload["size"])
        elif method == "PATCH" and path.startswith(UPLOADS + "/"):
            upload_id = path[len(UPLOADS) + 1:]
            if not (UPLOAD_ID.fullmatch(upload_id) and Hold.resumable(upload_id, self.node.clock())):
                raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)  # as edge/tus.py says it
        else:
            raise ApiError(413, "too_large", "only uploads send bodies this large to an edge")


def form_ticket(content_type, head):
    """The `ticket` field of a multipart form whose first bytes are `head`; ApiError if the
    `file` part does not begin within them, after a ticket."""
    mimetype, options = parse_options_header(content_type)
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        raise ApiError(400, "bad_form", "send multipart/form-data with the fields 'ticket' and 'file'")
    decoder = MultipartDecoder(boundary.encode(), max_form_memory_size=FIELD_LIMIT * MAX_PARTS,
                               max_parts=MAX_PARTS)
    decoder.receive_data(head)
    fields, part, buffer = {}, None, []
    try:
        while not isinstance(event := decoder.next_event(), NeedData):
            if isinstance(event, File):
                if "ticket" not in fields:
                    break
                return fields["ticket"]
            if isinstance(event, Field):
                part, buffer = event, []
            elif part is not None:
                buffer.append(event.data)
                if not event.more_data:
                    fields[part.name] = b"".join(buffer).decode("utf-8", "replace").strip()
    except ValueError as exc:
        raise ApiError(400, "bad_form", f"the multipart body is malformed: {exc}") from exc
    raise ApiError(401, "ticket_first", "send the field 'ticket' before the field 'file': no byte of a file is "
                                        "taken before its ticket is valid")
