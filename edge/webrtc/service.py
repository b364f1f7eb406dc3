"""The loop the edge's WebRTC side runs on: a thread of the process that holds the background lock
(edge/background.py), since aiortc and websockets need asyncio and that process is the one per data dir.

Its counters (edge/webrtc/stats.py) are written to the data dir every STATS_EVERY seconds.
"""
import asyncio
import logging
import threading

from protocol.datachannel import gather_on

from .peers import Peers
from .signalling import TrackerLink
from .stats import STATS_FILE, Stats

log = logging.getLogger(__name__)

STATS_EVERY = 2.0


class WebRTCService(threading.Thread):
    def __init__(self, node, manifests, max_peers, ice_addresses, on_proven):
        super().__init__(name="edge-webrtc", daemon=True)
        self.node, self.manifests, self.max_peers = node, manifests, max_peers
        self.ice_addresses, self.on_proven = ice_addresses, on_proven
        self.loop = None
        self.stopping = None

    def run(self):
        gather_on(self.ice_addresses)
        asyncio.run(self.main())

    async def main(self):
        self.loop, self.stopping = asyncio.get_running_loop(), asyncio.Event()
        stats = Stats(self.node.path(STATS_FILE))
        peers = Peers(self.manifests, stats, self.max_peers)
        links = [TrackerLink(self.node, tracker, peers, self.on_proven) for tracker in self.node.trackers]
        tasks = [asyncio.ensure_future(link.run()) for link in links]
        tasks += [asyncio.ensure_future(peers.sweep()), asyncio.ensure_future(self.keep_stats(stats))]
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await peers.close_all()
        stats.write()

    async def keep_stats(self, stats):
        while True:
            await asyncio.sleep(STATS_EVERY)
            try:
                stats.write()
            except OSError as exc:
                log.warning("cannot write %s: %s", stats.path, exc)

    def stop(self, timeout=5):
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        if self.is_alive():
            self.join(timeout)
