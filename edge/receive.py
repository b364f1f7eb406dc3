"""Stream a multipart/form-data body to disk as it arrives, so a 4 GB upload never sits in memory.

Werkzeug's sans-IO decoder gives the parts as events; small fields are kept, the `file` part is
written to its destination chunk by chunk. The `file` part must follow a valid `ticket` field (the
website sends them in that order): a file part that comes first, or after a refused ticket, is
refused at its headers, before a byte of it is read, and nothing of it is ever created on disk.
"""
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from .errors import ApiError

CHUNK = 1 << 16
FIELD_LIMIT = 64 * 1024  # a ticket is a few hundred bytes
MAX_PARTS = 16


def too_large(limit):
    return ApiError(413, "too_large", f"the file is larger than this upload allows ({limit} bytes)")


class FormReceiver:
    """Receives one form. `admit(ticket)` is called when the file part begins: it checks the ticket
    (raising ApiError) and returns (its payload, the byte limit, the open file to write into)."""

    def __init__(self, stream, boundary, admit, limit):
        self.stream, self.admit, self.limit, self.out = stream, admit, limit, None
        # No max_form_memory_size: the decoder would apply it to its buffer, file data included.
        self.decoder = MultipartDecoder(boundary, max_parts=MAX_PARTS)
        self.fields, self.ticket, self.size = {}, None, 0
        self.part, self.buffer, self.field_size, self.file_seen = None, [], 0, False

    def receive(self):
        """Read the whole body; return (ticket payload, file size). The file is closed on return."""
        try:
            self._read()
        finally:
            if self.out is not None:
                self.out.close()
        if not self.file_seen:
            raise ApiError(400, "missing_file", "send the video in the form field 'file'")
        if self.size == 0:
            raise ApiError(400, "empty_file", "the file is empty")
        return self.ticket, self.size

    def _read(self):
        while True:
            chunk = self.stream.read(CHUNK)
            # None tells the decoder the body has ended: only then does it confirm the closing
            # boundary (or report a body cut short, as a ValueError).
            self.decoder.receive_data(chunk or None)
            self._drain()
            if len(self.decoder.buffer) > 2 * CHUNK:  # part data is handed out as it comes; only
                # a preamble or part headers with no end pile up here
                raise ApiError(400, "bad_form", "the multipart body has no part boundary or header end")
            if not chunk:
                break

    def _drain(self):
        """Handle every event the decoder has ready."""
        try:
            event = self.decoder.next_event()
            while not isinstance(event, (NeedData, Epilogue)):
                self._handle(event)
                event = self.decoder.next_event()
        except ValueError as exc:
            raise ApiError(400, "bad_form", f"the multipart body is malformed or cut short: {exc}") from exc

    def _handle(self, event):
        if isinstance(event, File):
            if event.name != "file" or self.file_seen:
                raise ApiError(400, "bad_form", "send exactly one file, in the field 'file'")
            if "ticket" not in self.fields:
                # 401 like every other missing ticket: at this point of the form, it is missing.
                raise ApiError(401, "ticket_first", "send the field 'ticket' before the field 'file': no byte of "
                                                    "a file is taken before its ticket is valid")
            self.ticket, limit, self.out = self.admit(self.fields["ticket"])
            self.limit = min(self.limit, limit)
            self.part, self.file_seen = event, True
        elif isinstance(event, Field):
            self.part, self.buffer, self.field_size = event, [], 0
        elif isinstance(event, Data) and isinstance(self.part, File):
            self.size += len(event.data)
            if self.size > self.limit:
                raise too_large(self.limit)
            self.out.write(event.data)
        elif isinstance(event, Data):
            self.field_size += len(event.data)
            if self.field_size > FIELD_LIMIT:
                raise ApiError(413, "too_large", f"form fields are limited to {FIELD_LIMIT} bytes")
            self.buffer.append(event.data)
            if not event.more_data:
                self.fields[self.part.name] = b"".join(self.buffer).decode("utf-8", "replace").strip()
