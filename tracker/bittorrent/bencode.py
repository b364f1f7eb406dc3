"""Bencoding (BEP 3, "The connectivity is as follows" / bencoding): the tracker only ever encodes.

Dictionary keys are byte strings sorted as raw bytes, which is why scrape keys (raw 20-byte
info-hashes) must stay bytes all the way: decoding them as text is what breaks other trackers.
"""


def bencode(value):
    out = []
    _encode(value, out.append)
    return b"".join(out)


def _encode(value, put):
    if isinstance(value, bool):
        raise TypeError("bencoding has no booleans")
    if isinstance(value, int):
        put(b"i%de" % value)
    elif isinstance(value, (bytes, bytearray)):
        put(b"%d:" % len(value))
        put(bytes(value))
    elif isinstance(value, str):
        _encode(value.encode(), put)
    elif isinstance(value, (list, tuple)):
        put(b"l")
        for item in value:
            _encode(item, put)
        put(b"e")
    elif isinstance(value, dict):
        put(b"d")
        for key, item in sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items()):
            _encode(key, put)
            _encode(item, put)
        put(b"e")
    else:
        raise TypeError(f"cannot bencode {type(value).__name__}")


def bdecode(data):
    """The value `data` encodes (tests and tools read our answers with it); ValueError if malformed."""
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the bencoded value")
    return value


def _decode(data, i):
    kind = data[i:i + 1]
    if kind == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if kind in (b"l", b"d"):
        items, i = [], i + 1
        while data[i:i + 1] != b"e":
            item, i = _decode(data, i)
            items.append(item)
        if kind == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2])), i + 1
    if kind.isdigit():
        colon = data.index(b":", i)
        start = colon + 1
        length = int(data[i:colon])
        if start + length > len(data):
            raise ValueError("string runs past the end")
        return data[start:start + length], start + length
    raise ValueError(f"unexpected byte {kind!r} at {i}")
