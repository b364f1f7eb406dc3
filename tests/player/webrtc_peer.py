"""A stand-in home edge for the faults a real one does not make on cue (tests/player/test_browser_home_edge.py
plays from the real one): a tracker's `connect` route and an aiortc peer that serves one package's files
over the `slipstream` data channel as protocol/datachannel.py frames them, but leaves a chosen file's
request unanswered, the channel open (`silent`: a frozen edge), or closes the channel when a chosen file
is asked for (`hang_up`: a broken channel). It is also the tracker a player may look it up at again
(`/sources`, with the token `connect` takes), to renew a stale token."""
import asyncio
import json
import os
import threading

from aiortc import RTCPeerConnection, RTCSessionDescription
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from protocol.datachannel import gather_on
from tracker.webrtc.stun import Responder

LOOPBACK = "127.0.0.1"
CHUNK = 16 * 1024
HIGH_WATER = 1024 * 1024


class StandInEdge:
    def __init__(self, package_dir, node):
        self.package_dir, self.node = str(package_dir), node
        self.silent = set()   # file names asked for and never answered
        self.hang_up = set()  # file names whose request closes the channel
        self.connects = 0
        self.lookups = 0
        self.requests = []    # every path asked over a channel
        self.peers = set()
        # Loopback only, as every test target: aiortc offers 127.0.0.1 alone, and Chromium, which offers
        # no loopback host candidate, learns its loopback address from this STUN responder (the tracker's).
        gather_on([LOOPBACK])
        self.stun = Responder(LOOPBACK, 0, None)
        self.stun.start()
        self.ice_servers = [{"urls": [f"stun:{LOOPBACK}:{self.stun.sock.getsockname()[1]}"]}]
        self.loop = asyncio.new_event_loop()
        self.loop_thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.loop_thread.start()
        self.server = make_server(LOOPBACK, 0, self.app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def source(self, url="http://home-edge.invalid:8001"):
        """This edge as a tracker's sources answer lists a `webrtc` one: its URL unusable."""
        return {"node": self.node, "url": url, "reach": "webrtc", "connect": self.url + "/connect", "token": "t0ken"}

    def app(self):
        app = Flask(__name__)

        @app.after_request
        def cors(response):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            return response

        @app.route("/connect", methods=["POST", "OPTIONS"])
        def connect():
            if request.method == "OPTIONS":
                return "", 204
            self.connects += 1
            body = request.get_json()
            if body.get("node") != self.node or body.get("token") != "t0ken":
                return jsonify(error="invalid_token", message="bad token"), 403
            offer = body["offer"]
            sdp = asyncio.run_coroutine_threadsafe(self.answer(offer["sdp"]), self.loop).result(timeout=10)
            return jsonify(answer={"type": "answer", "sdp": sdp})

        @app.get("/api/v1/videos/<video_id>/sources")
        def sources(video_id):
            self.lookups += 1
            return jsonify(video_id=video_id, sources=[self.source()], found_by=self.url, ice_servers=self.ice_servers)

        return app

    async def answer(self, offer_sdp):
        pc = RTCPeerConnection()
        self.peers.add(pc)

        @pc.on("datachannel")
        def on_channel(channel):
            channel.bufferedAmountLowThreshold = HIGH_WATER // 2
            channel.on("message", lambda message: asyncio.ensure_future(self.serve(channel, message)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())  # aiortc gathers every candidate first
        return pc.localDescription.sdp

    async def serve(self, channel, message):
        asked = json.loads(message)
        name, ask = asked["path"], asked["id"]
        self.requests.append(name)
        if name in self.silent:
            return
        if name in self.hang_up:
            channel.close()
            return
        path = os.path.join(self.package_dir, name)
        if "/" in name or ".." in name or not os.path.isfile(path):
            channel.send(json.dumps({"id": ask, "status": 404, "size": 0, "length": 0}))
            return
        data = await asyncio.to_thread(self.read, path)
        status, size = 200, len(data)
        if asked.get("range"):
            start, end = asked["range"]
            data, status = data[start:end + 1], 206
        channel.send(json.dumps({"id": ask, "status": status, "size": size, "length": len(data)}))
        prefix = ask.to_bytes(4, "big")
        for at in range(0, len(data), CHUNK):
            while channel.bufferedAmount > HIGH_WATER:
                await self.drained(channel)
            channel.send(prefix + data[at:at + CHUNK])

    @staticmethod
    def read(path):
        with open(path, "rb") as f:
            return f.read()

    @staticmethod
    async def drained(channel):
        low = asyncio.get_running_loop().create_future()
        channel.once("bufferedamountlow", lambda: low.done() or low.set_result(None))
        await low

    def close(self):
        self.stun.stop()
        self.server.shutdown()
        self.server.server_close()
        for pc in list(self.peers):
            asyncio.run_coroutine_threadsafe(pc.close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.loop_thread.join(timeout=10)
        self.loop.close()
