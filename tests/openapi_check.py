"""A small JSON Schema checker: the subset of JSON Schema 2020-12 our OpenAPI 3.1 document uses."""
import re


def resolve(item, spec):
    """`item`, or what its $ref points to in `spec`."""
    while "$ref" in item:
        target = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target[part]
        item = target
    return item


def errors(value, schema, spec, where="$"):
    """A list of what is wrong with `value` against `schema` ($ref resolved in `spec`); [] when valid."""
    schema = resolve(schema, spec)
    found = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(is_type(value, t) for t in types):
            return [f"{where}: {value!r} is not of type {types}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {value!r} is not {schema['const']!r}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if is_type(value, "number") and "minimum" in schema and value < schema["minimum"]:
        found.append(f"{where}: {value} < {schema['minimum']}")
    if is_type(value, "number") and "maximum" in schema and value > schema["maximum"]:
        found.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        found += [f"{where}: missing {key!r}" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in schema.get("properties", {}):
                found += errors(item, schema["properties"][key], spec, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], spec, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {key!r} is not a documented property")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            found += errors(item, schema["items"], spec, f"{where}[{n}]")
    return found


def is_type(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "object": dict, "array": list, "boolean": bool,
                              "null": type(None)}[name])


def documented_answer(spec, path, method, status):
    """The response object the document gives for this status (or its default)."""
    responses = spec["paths"][path][method]["responses"]
    documented = responses.get(str(status)) or responses.get("default")
    assert documented is not None, f"{method.upper()} {path} does not document status {status}"
    return documented


def response_schema(spec, path, method, status, media="application/json"):
    """The schema the document gives for this answer's `media` body, or None when it documents none."""
    return documented_answer(spec, path, method, status).get("content", {}).get(media, {}).get("schema")


def header_errors(headers, spec, path, method, status):
    """What is wrong with an answer's `headers` against the document: a required one missing, or one
    present that does not match its schema; [] when they hold."""
    found = []
    for name, header in documented_answer(spec, path, method, status).get("headers", {}).items():
        header = resolve(header, spec)
        if name in headers:
            found += errors(headers[name], header["schema"], spec, name)
        elif header.get("required"):
            found.append(f"missing header {name}")
    return found
