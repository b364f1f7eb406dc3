"""`Edge`: an edge as the tracker sees it, for tests that drive a tracker through Flask's test client.

A real Ed25519 key that signs announces, registrations and drops exactly as an edge does, and a real
HTTP server on loopback that answers URL proofs and serves the packages it holds, so every test
goes through the tracker's real signature, freshness, replay, proof and audit checks. The same
helper plays a liar: `lies` names what it lies about, and it then answers whatever the test wants.
"""
import hashlib
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nacl.signing

from protocol.ids import canonical_json, video_id as id_of
from protocol.manifest import MANIFEST_NAME
from protocol.proofs import PATH as PROOF_PATH, prove
from protocol.signing import node_id, sign

RUNNING = []  # every server started, so the autouse fixture in conftest.py can close them


class Edge:
    def __init__(self, url=None, capacity=10**9, used=0, free=None, lasting=False):
        """`lasting`: serve until the process ends, for module-scoped trackers; else until the test ends."""
        self.key = nacl.signing.SigningKey.generate()
        self.id = node_id(self.key)
        self.capacity, self.used, self.free, self.videos = capacity, used, free, []
        self.packages = {}  # video id -> {file name: bytes}, manifest.json included
        self.lies = set()  # "proof": signs proofs with another key; "files": serves other bytes
        self.proofs = 0  # proof requests answered
        self.closed = False
        self.last = 0.0
        self.server = QuietServer(("127.0.0.1", 0), handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        if not lasting:
            RUNNING.append(self)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}" if url is None else url

    def close(self):
        self.closed = True
        self.server.shutdown()
        self.server.server_close()

    def stamp(self):
        """Unix seconds as a float, strictly increasing, as a real edge's clock."""
        self.last = max(time.time(), self.last + 0.001)
        return self.last

    def make_package(self, segments=2, segment_size=3000, **facts):
        """A small package (playlists, segments, a poster) with its manifest; returns its id. `facts`
        override the manifest's description (duration, renditions, poster, ...), lies included."""
        files = {"master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n360p.m3u8\n",
                 "360p.m3u8": b"#EXTM3U\n" + os.urandom(8).hex().encode() + b"\n",
                 "poster.jpg": os.urandom(500)}
        files.update({f"360p_{n:05d}.m4s": os.urandom(segment_size) for n in range(segments)})
        manifest = {"version": 1, "duration": 6.0, "poster": "poster.jpg", "thumbnails": None,
                    "renditions": [{"name": "360p", "width": 640, "height": 360, "bandwidth": 800000,
                                    "playlist": "360p.m3u8"}],
                    "files": {name: {"sha256": sha256(data), "size": len(data)} for name, data in files.items()},
                    **facts}
        video_id = id_of(manifest)
        self.packages[video_id] = {**files, MANIFEST_NAME: canonical_json(manifest)}
        return video_id

    def copy_from(self, other, video_id):
        """Hold a true copy of a video `other` holds, and list it in announces."""
        self.packages[video_id] = dict(other.packages[video_id])
        self.videos.append(video_id)

    def package_size(self, video_id):
        return sum(len(data) for data in self.packages[video_id].values())

    def announce_doc(self, **changes):
        payload = {"node": self.id, "timestamp": self.stamp(), "url": self.url, "capacity": self.capacity,
                   "used": self.used, "videos": list(self.videos), "event": "started"}
        if self.free is not None:
            payload["free"] = self.free
        return sign({**payload, **changes}, self.key)

    def registration_doc(self, upload, video_id, **changes):
        payload = {"node": self.id, "timestamp": self.stamp(), "upload": upload, "video_id": video_id}
        return sign({**payload, **changes}, self.key)

    def announce(self, client, **changes):
        return client.post("/api/v1/nodes/announce", json=self.announce_doc(**changes))

    def register(self, client, upload, video_id=None, **changes):
        """Register `video_id` (a new package of this edge's by default) as made from `upload`."""
        video_id = video_id or self.make_package()
        return client.post("/api/v1/videos", json=self.registration_doc(upload, video_id, **changes))

    def answer_proof(self, request):
        self.proofs += 1
        key = nacl.signing.SigningKey.generate() if "proof" in self.lies else self.key
        return prove(request["challenge"], request["tracker"], request["url"], key, self.id)

    def file(self, video_id, name):
        data = self.packages.get(video_id, {}).get(name)
        if data is not None and "files" in self.lies and name != MANIFEST_NAME:
            return bytes(len(data))  # the right size, the wrong bytes
        return data


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a tracker that stops reading (a size cap, a deadline) is no error of the test's


FILE_PATH = re.compile(r"/videos/([0-9a-f]{40})/([A-Za-z0-9_.-]+)")


def handler_for(edge):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != PROOF_PATH:
                return self.reply(404, b"")
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.reply(200, json.dumps(edge.answer_proof(request)).encode())

        def do_GET(self):
            match = FILE_PATH.fullmatch(self.path)
            data = match and edge.file(*match.groups())
            self.reply(404, b"") if data is None else self.reply(200, data)

        def reply(self, status, body):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler
