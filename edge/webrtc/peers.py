"""One aiortc peer connection per viewer's offer, at most EDGE_WEBRTC_PEERS at once, each closed after
IDLE seconds without a request or a byte sent (README.md, "Home edges")."""
import asyncio
import logging
import time

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import SessionDescription

from protocol.datachannel import LABEL, ice_configuration

from .files import ChannelFiles

log = logging.getLogger(__name__)

IDLE = 60.0
SCTP = {"UDP/DTLS/SCTP", "TCP/DTLS/SCTP", "DTLS/SCTP"}  # RFC 8841 section 4; the last is the draft's, older browsers
SWEEP_EVERY = 5.0


class Refused(Exception):
    """An offer the edge does not take; its message is the refusal's reason."""


def is_channel_offer(sdp):
    """An offer of exactly one data channel section and nothing else: aiortc answers anything, even an
    offer with no media at all, with a peer connection that would hold a place until it idles out."""
    try:
        description = SessionDescription.parse(sdp)
    except (ValueError, IndexError, KeyError):
        return False
    return [m.kind for m in description.media] == ["application"] and description.media[0].profile in SCTP


class Peer:
    def __init__(self, connection):
        self.connection = connection
        self.active = time.monotonic()

    def touch(self):
        self.active = time.monotonic()


class Peers:
    def __init__(self, manifests, stats, max_peers):
        self.manifests, self.stats, self.max_peers = manifests, stats, max_peers
        self.open = set()

    async def answer(self, video_id, sdp, ice_servers):
        """The answer SDP to a viewer's offer for `video_id`, or Refused("busy" | "video_not_held")."""
        if len(self.open) >= self.max_peers:
            raise Refused("busy")
        if self.manifests.files(video_id) is None:
            raise Refused("video_not_held")
        if not is_channel_offer(sdp):
            raise Refused("invalid_offer")
        peer = Peer(RTCPeerConnection(ice_configuration(ice_servers)))
        self.open.add(peer)
        self.stats.peers(len(self.open))
        connection = peer.connection

        @connection.on("datachannel")
        def channel_opened(channel):
            if channel.label != LABEL:
                channel.close()
                return
            ChannelFiles(self.manifests, video_id, self.stats, peer.touch).attach(channel)

        @connection.on("connectionstatechange")
        async def state_changed():
            if connection.connectionState in ("failed", "closed"):
                await self.close(peer)

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await connection.setLocalDescription(await connection.createAnswer())  # gathers every candidate
        except Exception as exc:  # noqa: BLE001 - aiortc raises ValueError and others on a bad offer
            await self.close(peer)
            raise Refused("invalid_offer") from exc
        return connection.localDescription.sdp

    async def close(self, peer):
        if peer in self.open:
            self.open.discard(peer)
            self.stats.peers(len(self.open))
            await peer.connection.close()

    async def sweep(self):
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            now = time.monotonic()
            for peer in [p for p in self.open if now - p.active > IDLE]:
                await self.close(peer)

    async def close_all(self):
        for peer in list(self.open):
            await self.close(peer)
