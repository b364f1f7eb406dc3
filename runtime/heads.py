"""Plain GET and HEAD request heads, recognised whole by one regular expression, so a worker can
answer them straight from data_received (runtime/plain.py) without gunicorn's parser, request object
and task per request, which cost more than a small answer itself (bench/edge.py, README).

Only a head that is certainly plain is recognised: one HTTP/1.1 request line with a path of plain
characters (no `%`; a query only where the caller takes one), at most 100 well-formed header fields
in at most MAX_HEAD bytes, all of it already received, and none of the fields that change how the request is framed or answered
(a body's Content-Length or Transfer-Encoding, Range and conditional fields, Upgrade, Expect, TE, a
Connection other than keep-alive, a second Host). This is stricter than gunicorn's parser on every
point, so a head recognised here is one gunicorn would have read the same way; anything else is
left to gunicorn, which serves it in full.
"""
import re

MAX_HEAD = 8190  # gunicorn's limit_request_line and limit_request_field_size
TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"  # RFC 9110 section 5.6.2
VALUE = rb"[\t\x20-\x7e\x80-\xff]*"  # field-value characters, RFC 9110 section 5.5
PLAIN = re.compile(rb"(GET|HEAD) (/[-A-Za-z0-9._~!$&'()*+,;=:@/]*)(?:\?([-A-Za-z0-9._~!$&'()*+,;=:@/?%]*))? "
                   rb"HTTP/1\.1\r\n((?:" + TOKEN + rb":" + VALUE + rb"\r\n){0,100})\r\n")
NOT_PLAIN = re.compile(rb"\n(?:content-length|transfer-encoding|range|if-[-a-z]*|upgrade|expect|te|trailer"
                       rb"|http2-settings):|\nconnection:(?![ \t]*keep-alive[ \t]*\r$)", re.MULTILINE)


def plain_head(data, start=0):
    """(method, path, query or None, fields, end) of the plain request head at `data[start:]`, `end`
    where it stops, `fields` its header lines lowercased, each after a newline; None when there is
    none there (not plain, or not all received yet). The query may hold `%` escapes: it is the
    caller's to decode; the path never does."""
    match = PLAIN.match(data, start, start + MAX_HEAD)
    if match is None:
        return None
    fields = b"\n" + match.group(4).lower()
    if fields.count(b"\nhost:") > 1 or NOT_PLAIN.search(fields):
        return None
    return match.group(1), match.group(2), match.group(3), fields, match.end()


def plain_request(data, start=0):
    """(method, path, end) of a plain request head with no query at `data[start:]`; else None."""
    head = plain_head(data, start)
    if head is None or head[2] is not None:
        return None
    return head[0], head[1], head[4]


def field_values(fields, name):
    """The values of every `name` field (lowercase bytes) among plain_head's `fields`, joined by commas."""
    return b",".join(value.strip() for value in re.findall(b"\n" + name + b":(.*)\r", fields))
