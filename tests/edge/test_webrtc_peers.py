"""The edge's peer connections (edge/webrtc/peers.py), in process with aiortc on both ends: the cap on
peers, a video the edge does not hold, an offer that is no offer, and the idle close."""
import asyncio

import pytest
from aiortc import RTCPeerConnection

from edge.webrtc import peers as peers_module
from edge.webrtc.peers import Peers, Refused
from edge.webrtc.stats import Stats
from protocol.datachannel import LABEL, gather_on
from tests.edge.package import published_video


class Viewer:
    """An offer made the way a viewer makes one."""

    async def offer(self):
        self.peer = RTCPeerConnection()
        self.peer.createDataChannel(LABEL)
        await self.peer.setLocalDescription(await self.peer.createOffer())
        return self.peer.localDescription.sdp


@pytest.fixture
def held(app, node):
    gather_on(["127.0.0.1"])
    video_id = published_video(node)
    return Peers(app.extensions["edge.manifests"], Stats(node.path("webrtc.json")), max_peers=1), video_id


def test_one_peer_past_the_cap_is_busy_and_a_closed_one_frees_its_place(held):
    peers, video_id = held

    async def scenario():
        viewers = [Viewer(), Viewer(), Viewer()]
        answer = await peers.answer(video_id, await viewers[0].offer(), [])
        with pytest.raises(Refused, match="busy"):
            await peers.answer(video_id, await viewers[1].offer(), [])
        await peers.close_all()
        again = await peers.answer(video_id, await viewers[2].offer(), [])
        await peers.close_all()
        for viewer in viewers:
            await viewer.peer.close()
        return answer, again
    answer, again = asyncio.run(scenario())
    assert answer.startswith("v=0") and "a=candidate" in answer and again.startswith("v=0")


def test_a_video_not_held_and_a_broken_offer_are_refused(held):
    peers, video_id = held

    async def scenario():
        viewer = Viewer()
        sdp = await viewer.offer()
        reasons = []
        for video, offer in (("3" * 40, sdp), (video_id, "v=0\r\nnot an offer\r\n")):
            try:
                await peers.answer(video, offer, [])
            except Refused as exc:
                reasons.append(str(exc))
        await viewer.peer.close()
        return reasons, len(peers.open)
    assert asyncio.run(scenario()) == (["video_not_held", "invalid_offer"], 0)


def test_an_idle_peer_is_closed(held, monkeypatch):
    peers, video_id = held
    monkeypatch.setattr(peers_module, "IDLE", 0.0)
    monkeypatch.setattr(peers_module, "SWEEP_EVERY", 0.01)

    async def scenario():
        viewer = Viewer()
        await peers.answer(video_id, await viewer.offer(), [])
        sweep = asyncio.ensure_future(peers.sweep())
        try:
            while peers.open:  # bounded by the test's own timeout
                await asyncio.sleep(0.01)
        finally:
            sweep.cancel()
            await viewer.peer.close()
        return len(peers.open)
    assert asyncio.run(asyncio.wait_for(scenario(), 20)) == 0
