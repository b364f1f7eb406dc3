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


def over_http(base, names, files):
    started = time.perf_counter()
    with requests.Session() as session:
        for name in names:
            data = session.get(f"{base}/{name}", timeout=60).content
            assert hashlib.sha256(data).hexdigest() == files[name]["sha256"], name
    return time.perf_counter() - started


async def over_channel(channel, names, files, in_flight):
    started = time.perf_counter()
    slots = asyncio.Semaphore(in_flight)

    async def one(name):
        async with slots:
            status, _, data = await channel.get(name, timeout=120)
        assert status == 200 and hashlib.sha256(data).hexdigest() == files[name]["sha256"], name
    await asyncio.gather(*(one(name) for name in names))
    return time.perf_counter() - started


async def channel_rounds(home, names, files, rounds, total):
    answer = sources(home.tracker.url, home.video_id)
    started = time.perf_counter()
    peer, channel = await connect(answer["sources"][0], home.video_id, answer["ice_servers"])
    connected = time.perf_counter() - started
    try:
        one = [total / await over_channel(channel, names, files, 1) / 1e6 for _ in range(rounds)]
        four = [total / await over_channel(channel, names, files, 4) / 1e6 for _ in range(rounds)]
    finally:
        await peer.close()
    return connected, one, four


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
            http = [total / over_http(base, names, files) / 1e6 for _ in range(args.rounds)]
            connected, one, four = asyncio.run(channel_rounds(home, names, files, args.rounds, total))
        finally:
            home.stop()
    print(f"{len(names)} segments, {total / 1e6:.1f} MB a round; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"HTTP, one connection, one file at a time: {', '.join(f'{x:.1f}' for x in http)} MB/s")
    print(f"data channel, one at a time: {', '.join(f'{x:.1f}' for x in one)} MB/s")
    print(f"data channel, 4 in flight: {', '.join(f'{x:.1f}' for x in four)} MB/s")
    median = statistics.median
    print(f"medians: HTTP {median(http):.1f}, channel {median(one):.1f} ({median(one) / median(http):.3f} x HTTP), "
          f"4 in flight {median(four):.1f} ({median(four) / median(http):.3f} x HTTP)")
    print(f"lookup to open channel: {connected * 1000:.0f} ms")


if __name__ == "__main__":
    main()
