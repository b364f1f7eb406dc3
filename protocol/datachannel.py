"""Files over a WebRTC data channel (README.md, "Home edges"): the wire format both ends speak, and the
viewer's end in Python (the tracker's audits of home edges, tests, bench/webrtc.py; browsers have their
own in player/).

One ordered, reliable channel labelled `slipstream`. A request is JSON text `{"id": int, "path": file
name in the package, "range": [start, end inclusive] | null}`. Its answer is a JSON text head `{"id",
"status", "size": the file's size, "length": bytes that follow}`, then `length` bytes in binary messages,
each a 4-byte big-endian request id and up to CHUNK bytes; answers to different requests may interleave,
and there is no end marker: `length` says when one is whole.
"""
import asyncio
import json
import struct

LABEL = "slipstream"
CHUNK = 16 * 1024  # bytes of payload a message carries: what every browser's SCTP stack takes whole
HEADER = struct.Struct(">I")
MAX_REQUEST = 1024  # bytes of a request's JSON: a file name and a range
MAX_ID = 2**32 - 1


class BadRequest(ValueError):
    """A request the channel answers with 400 (under its id, when it had a readable one)."""

    def __init__(self, message, request_id=None):
        super().__init__(message)
        self.request_id = request_id


def parse_request(text):
    """(id, path, range or None) of a request message; BadRequest when it is none. A path is a bare file
    name: anything with a '/', a '\\' or '..' is refused, whatever the edge would find there."""
    if not isinstance(text, str) or len(text) > MAX_REQUEST:
        raise BadRequest("a request is JSON text of at most 1 KiB")
    try:
        body = json.loads(text)
    except ValueError:
        raise BadRequest("a request is JSON text") from None
    request_id = body.get("id") if isinstance(body, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int) or not 0 <= request_id <= MAX_ID:
        raise BadRequest("id must be an integer from 0 to 2**32 - 1")
    path, byte_range = body.get("path"), body.get("range")
    if not isinstance(path, str) or not path or "/" in path or "\\" in path or ".." in path or "\0" in path:
        raise BadRequest("path must be a file name of the package", request_id)
    if byte_range is not None:
        if not (isinstance(byte_range, list) and len(byte_range) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in byte_range)
                and byte_range[0] <= byte_range[1]):
            raise BadRequest("range must be [start, end] with 0 <= start <= end, or null", request_id)
        byte_range = tuple(byte_range)
    return request_id, path, byte_range


def head(request_id, status, size, length):
    return json.dumps({"id": request_id, "status": status, "size": size, "length": length})


def frame(request_id, payload):
    return HEADER.pack(request_id) + payload


class ChannelError(Exception):
    """The channel closed, or an answer broke the format."""


class FileChannel:
    """The viewer's end of an open channel: `await get(path, byte_range)` → (status, size, bytes); up to
    any number of requests in flight."""

    def __init__(self, channel):
        self.channel = channel
        self.next_id = 0
        self.pending = {}  # id -> {"future", "head", "parts", "got"}
        channel.on("message", self._message)
        channel.on("close", self._closed)

    async def get(self, path, byte_range=None, timeout=30):
        request_id, self.next_id = self.next_id, self.next_id + 1
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = {"future": future, "head": None, "parts": [], "got": 0}
        self.channel.send(json.dumps({"id": request_id, "path": path,
                                      "range": list(byte_range) if byte_range else None}))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.pending.pop(request_id, None)

    def _message(self, message):
        if isinstance(message, str):
            try:
                answer = json.loads(message)
                entry = self.pending[answer["id"]]
                entry["head"] = answer
            except (ValueError, KeyError, TypeError):
                return  # an answer to a request given up on
            self._maybe_done(entry)
            return
        if len(message) < HEADER.size:
            return
        (request_id,) = HEADER.unpack_from(message)
        entry = self.pending.get(request_id)
        if entry is None or entry["head"] is None:
            return
        entry["parts"].append(message[HEADER.size:])
        entry["got"] += len(message) - HEADER.size
        self._maybe_done(entry)

    def _maybe_done(self, entry):
        answer, future = entry["head"], entry["future"]
        if future.done() or answer is None:
            return
        if entry["got"] > answer.get("length", 0):
            future.set_exception(ChannelError("more bytes came than the answer's length"))
        elif entry["got"] == answer.get("length", 0):
            future.set_result((answer.get("status"), answer.get("size"), b"".join(entry["parts"])))

    def _closed(self):
        for entry in self.pending.values():
            if not entry["future"].done():
                entry["future"].set_exception(ChannelError("the channel closed"))


def ice_configuration(ice_servers):
    """aiortc's configuration from the sources answer's `ice_servers`."""
    from aiortc import RTCConfiguration, RTCIceServer
    return RTCConfiguration([RTCIceServer(urls=server["urls"]) for server in ice_servers or []])


async def open_channel(send_offer, ice_servers, timeout=20):
    """Connect to an edge as a viewer does: make the offer (every candidate gathered: aiortc gathers
    in setLocalDescription), `await send_offer(sdp)` for the answer's SDP (through a tracker's
    /connect), open the channel. Returns (peer connection, FileChannel); the caller closes the first."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    peer = RTCPeerConnection(ice_configuration(ice_servers))
    try:
        channel = peer.createDataChannel(LABEL, ordered=True)
        opened = asyncio.get_running_loop().create_future()
        channel.on("open", lambda: opened.done() or opened.set_result(True))
        await peer.setLocalDescription(await peer.createOffer())
        answer = await send_offer(peer.localDescription.sdp)
        await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(opened, timeout)
    except BaseException:
        await peer.close()
        raise
    return peer, FileChannel(channel)


def gather_on(addresses):
    """Offer host candidates on `addresses` only (SLIPSTREAM_ICE_ADDRESSES): aioice picks every
    interface but loopback, and has no setting of its own for it. Empty: leave aioice's choice."""
    if addresses:
        from aioice import ice
        ice.get_host_addresses = lambda use_ipv4, use_ipv6: [a for a in addresses if (":" in a and use_ipv6)
                                                              or (":" not in a and use_ipv4)]
