"""A viewer of a home edge, in Python: what the player's WebRTC loader does, with aiortc."""
import asyncio

import requests

from protocol.datachannel import open_channel


def sources(tracker_url, video_id):
    answer = requests.get(f"{tracker_url}/api/v1/videos/{video_id}/sources", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def post_connect(source, video_id, sdp, **changes):
    body = {"node": source["node"], "token": source["token"], "offer": {"type": "offer", "sdp": sdp}, **changes}
    return requests.post(source["connect"], json=body, timeout=20)


async def connect(source, video_id, ice_servers):
    """(peer connection, FileChannel) to the edge of a `webrtc` source, through its tracker."""
    async def send_offer(sdp):
        answer = await asyncio.to_thread(post_connect, source, video_id, sdp)
        assert answer.status_code == 200, answer.text
        return answer.json()["answer"]["sdp"]
    return await open_channel(send_offer, ice_servers)


def run(coroutine):
    return asyncio.run(coroutine)
