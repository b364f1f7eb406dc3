"""schemathesis hooks for tests/contract/test_contract.py, loaded by `st run` through SCHEMATHESIS_HOOKS.

What they tell schemathesis is in the edge's document in words, but has no place in OpenAPI's
schemas, which describe each header and the body on its own.
"""
import schemathesis
from schemathesis.core import NotSet

# tus 1.0 PATCH bodies are raw bytes under their own media type (edge/tus.py).
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@schemathesis.hook.apply_to(path="/api/v1/uploads", method="POST")
def map_case(context, case):
    """The edge's upload URL takes one of two requests: a tus creation (`Tus-Resumable: 1.0.0` with
    Upload-Length and no body: the edge offers no deferred length) or the multipart form. A generated
    request that is neither is made into the one it is closest to."""
    headers = case.headers if case.headers is not None else {}
    tus, no_body = headers.get("Tus-Resumable") == "1.0.0", isinstance(case.body, NotSet)
    if tus and "Upload-Length" not in headers:
        if no_body:
            headers["Upload-Length"] = "1"
        else:
            del headers["Tus-Resumable"]
    elif "Tus-Resumable" not in headers and no_body:
        headers.update({"Tus-Resumable": "1.0.0", "Upload-Length": "1"})
    case.headers = headers
    return case


@schemathesis.hook.apply_to(path="/api/v1/uploads", method="POST")
def map_body(context, body):
    """The form's `ticket` comes before its `file` (README: no byte of a file is read before its ticket
    is valid); a JSON Schema's properties have no order, so the generated form is put in it."""
    if isinstance(body, dict) and "ticket" in body:
        return {"ticket": body["ticket"], **body}
    return body
