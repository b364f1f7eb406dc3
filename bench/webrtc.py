"""Files from a home edge over a WebRTC data channel against HTTP from the same edge, on loopback
(README.md, "Home edges"; issue 18, item 5): `python bench/webrtc.py`.

Publishes a real video (tracker + edge under gunicorn, the normal upload path), restarts the edge behind
a URL nobody listens on so that it is a `webrtc` source (tests/webrtc/home.py), then fetches every
segment of the package, whole, over HTTP from the edge's own port (one keep-alive connection, one file
at a time, as a player's first requests go) and over one data channel (aiortc on both ends: one at a
time, then 4 in flight, as the player's loader). Each file is hashed against the manifest. Rounds take
turns; prints MB/s per round, the medians and the ratios, the time to connect (lookup → channel open)
and the load average before and after.
"""
import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from protocol.manifest import parse_manifest  # noqa: E402
from tests.clips import make_clip  # noqa: E402
from tests.webrtc.home import Home  # noqa: E402
from tests.webrtc.viewer import connect, sources  # noqa: E402


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """MB/s and the edge's and this process's (the viewer's) CPU seconds per MB of each round."""

    def __init__(self, edge_pid, total):
        self.edge_pid, self.total, self.rounds = edge_pid, total, []

    def start(self):
        self.began = (time.perf_counter(), cpu_seconds(self.edge_pid), time.process_time())

    def stop(self):
        wall, edge, viewer = self.began
        mb = self.total / 1e6
        self.rounds.append((mb / (time.perf_counter() - wall), (cpu_seconds(self.edge_pid) - edge) / mb,
                            (time.process_time() - viewer) / mb))

    def line(self, what):
        rates = ", ".join(f"{r[0]:.1f}" for r in self.rounds)
        return (f"{what}: {rates} MB/s; CPU-ms per MB, edge {statistics.median(r[1] for r in self.rounds) * 1000:.0f}, "
                f"viewer {statistics.median(r[2] for r in self.rounds) * 1000:.0f}")

    def median(self, index=0):
        return statistics.median(r[index] for r in self.rounds)


def over_http(base, names, files):
    with requests.Session() as session:
        for name in names:
            data = session.get(f"{base}/{name}", timeout=60).content
            assert hashlib.sha256(data).hexdigest() == files[name]["sha256"], name


async def over_channel(channel, names, files, in_flight):
    slots = asyncio.Semaphore(in_flight)

    async def one(name):
        async with slots:
            status, _, data = await channel.get(name, timeout=120)
        assert status == 200 and hashlib.sha256(data).hexdigest() == files[name]["sha256"], name
    await asyncio.gather(*(one(name) for name in names))


async def channel_rounds(home, names, files, rounds, one, four):
    answer = sources(home.tracker.url, home.video_id)
    started = time.perf_counter()
    peer, channel = await connect(answer["sources"][0], home.video_id, answer["ice_servers"])
    connected = time.perf_counter() - started
    try:
        for meter, in_flight in ((one, 1), (four, 4)):
            for _ in range(rounds):
                meter.start()
                await over_channel(channel, names, files, in_flight)
                meter.stop()
    finally:
        await peer.close()
    return connected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of the 720p clip")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = make_clip(root / "clip.mp4", seconds=args.seconds, width=1280, height=720)
        home = Home()
        try:
            home.start(root, clip, TRACKER_AUDIT_INTERVAL="3600")
            base = f"http://127.0.0.1:{home.edge.port}/videos/{home.video_id}"
            files = parse_manifest(requests.get(f"{base}/manifest.json", timeout=10).content, home.video_id)["files"]
            names = sorted(name for name in files if name.endswith(".m4s"))
            total = sum(files[name]["size"] for name in names)
            (edge_pid,) = home.edge.workers()
            http, one, four = (Meter(edge_pid, total) for _ in range(3))
            for _ in range(args.rounds):
                http.start()
                over_http(base, names, files)
                http.stop()
            connected = asyncio.run(channel_rounds(home, names, files, args.rounds, one, four))
        finally:
            home.stop()
    print(f"{len(names)} segments, {total / 1e6:.1f} MB a round; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(http.line("HTTP, one connection, one file at a time"))
    print(one.line("data channel, one at a time"))
    print(four.line("data channel, 4 in flight"))
    print(f"medians: HTTP {http.median():.1f} MB/s, channel {one.median():.1f} ({one.median() / http.median():.3f} x), "
          f"4 in flight {four.median():.1f} ({four.median() / http.median():.3f} x); edge CPU per MB over the channel "
          f"{one.median(1) / http.median(1):.0f} x HTTP's")
    print(f"lookup to open channel: {connected * 1000:.0f} ms")


if __name__ == "__main__":
    main()
