"""How the edge's OpenAPI document (edge/openapi.py) spells parameters, answers and refusals."""

STRING, NUMBER = {"type": "string"}, {"type": "number"}
COUNT = {"type": "integer", "minimum": 0}


def pattern(regex):
    """The code's own check (a compiled regular expression used with fullmatch) as a JSON Schema."""
    return {"type": "string", "pattern": f"^{regex.pattern}$"}


def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}


def path_parameter(name, schema, description):
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def header_parameter(name, description, schema=STRING, required=False):
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


def answer(description, schema=None, headers=None, media="application/json"):
    response = {"description": description, "headers": headers or {}}
    if schema is not None:
        response["content"] = {media: {"schema": schema}}
    return response


def refused(description, *codes, headers=None):
    """An error answer: `{"error": one of `codes`, "message": text}` (edge/errors.py)."""
    return answer(description, {
        "type": "object", "required": ["error", "message"], "additionalProperties": False,
        "properties": {"error": {"type": "string", "enum": list(codes)}, "message": STRING}}, headers)


INTERNAL = refused("the edge failed to answer; see its log", "internal_error")
# The answers of every operator route (bearer EDGE_ADMIN_TOKEN; edge/handover.py's check_admin).
OPERATOR_REFUSALS = {
    "401": refused("no bearer token", "unauthorized", headers={"WWW-Authenticate": {
        "description": "the scheme to use", "required": True, "schema": {"type": "string"}}}),
    "403": refused("the operator API is off (no EDGE_ADMIN_TOKEN), or the token is wrong",
                   "operator_api_off", "forbidden")}
NOT_FOUND = refused("nothing here (the same answer for every kind of miss)", "not_found")
