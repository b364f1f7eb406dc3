"""Soak: honest traffic for minutes with the cheap attacks beside it (README.md, hostile load):
`python bench/soak.py --minutes 10`.

A real network on loopback (a tracker and two edges under gunicorn, a published video held by both)
first serves honest traffic alone, then the same with attackers beside it:
- honest: viewers looking up sources and fetching the manifest, players pulling segments as fast
  as they can (the throughput compared between the phases), an uploader sending a short clip now
  and then, donations, and the edges' own announces (every few seconds, so a few failures in a row
  would expire an edge);
- attacks: `--slow` connections against the tracker and as many against an edge, from many
  loopback addresses, half trickling a request head and half trickling a body just above the
  minimum rate (each reconnects when the server cuts it, so the number held stays up), and one
  address flooding placements.
It prints, per phase and kind of request, the count, failures, p50 and p99; the segment rate
under attack against the rate before; announce failures and any moment an edge was missing from
the sources; and each server process's memory and open descriptors idle, after warm-up (which includes
a short burst of the attack: the allocators' first high-water mark is not growth), in the first and last
minute of the attack, and at the end.
An honest request that failed, or an edge that went missing, is a failure of the run (exit 1).
"""
import argparse
import asyncio
import collections
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.actions import announced, send, upload, wait_for, wait_published  # noqa: E402
from tests.clips import make_clip  # noqa: E402
from tests.servers import Server, start_edge  # noqa: E402

INTERVAL = 5  # seconds between an edge's announces: silent for 3 of them, it expires
PER_ADDRESS = 50  # attacking connections per loopback address, under the per-address cap of 64
TRICKLE = 1100  # bytes per second of a slow body: just above SLIPSTREAM_BODY_MIN_RATE's 1000


class Recorder:
    """Latencies and failures per (phase, kind), from every honest thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "warm-up"
        self.times = collections.defaultdict(list)
        self.failures = collections.defaultdict(list)
        self.bytes = collections.Counter()
        self.started = {}

    def begin(self, phase):
        with self.lock:
            self.phase = phase
            self.started[phase] = time.monotonic()

    def timed(self, kind, call):
        """Run `call` (it returns a requests answer, or raises); record how long and whether it failed."""
        start = time.monotonic()
        phase = self.phase
        try:
            answer = call()
            ok, detail = answer.ok, f"{answer.status_code} {answer.text[:120]}"
        except requests.RequestException as exc:
            answer, ok, detail = None, False, repr(exc)[:160]
        with self.lock:
            self.times[phase, kind].append(time.monotonic() - start)
            if not ok:
                self.failures[phase, kind].append(detail)
            elif kind == "segment":
                self.bytes[phase] += len(answer.content)
        return answer if ok else None

    def fail(self, kind, detail):
        with self.lock:
            self.failures[self.phase, kind].append(detail)


def honest_traffic(recorder, tracker, video, clip, stop, upload_every=20):
    """Start the honest clients' threads; they run until `stop` is set."""
    def every(seconds, work):
        def loop():
            session = requests.Session()
            while not stop.wait(seconds):
                work(session)
        return loop

    def look_up(session):
        answer = recorder.timed("sources", lambda: session.get(f"{tracker.url}/api/v1/videos/{video}/sources",
                                                               timeout=30))
        if answer is None:
            return
        sources = answer.json()["sources"]
        if len(sources) < 2:
            recorder.fail("edge missing", f"{len(sources)} sources at {time.strftime('%X')}")
        if sources:
            recorder.timed("manifest", lambda: session.get(f"{sources[0]['url']}/videos/{video}/manifest.json",
                                                           timeout=30))

    segments = segment_urls(tracker, video)

    def pull(session):
        for url in segments:
            if stop.is_set():
                return
            recorder.timed("segment", lambda: session.get(url, timeout=30))

    def donate(session):
        recorder.timed("donation", lambda: session.post(
            f"{tracker.url}/api/v1/donations", timeout=30, headers={"Idempotency-Key": str(uuid.uuid4())},
            json={"video_id": video, "amount": 100, "currency": "EUR", "served": {}, "found_by": None}))

    def upload_once(session):
        start = time.monotonic()
        try:
            placement = requests.post(f"{tracker.url}/api/v1/uploads", timeout=30,
                                      json={"title": "soak", "size": os.path.getsize(clip)})
            placement.raise_for_status()
            job = send(placement.json(), clip)
            wait_published(job["status_url"], timeout=120)
        except (AssertionError, requests.RequestException) as exc:
            recorder.fail("upload", repr(exc)[:160])
            return
        with recorder.lock:
            recorder.times[recorder.phase, "upload"].append(time.monotonic() - start)

    loops = [every(0.1, look_up) for _ in range(4)] + [every(0, pull) for _ in range(2)] + [every(2, donate)] \
        + ([every(upload_every, upload_once)] if upload_every else [])
    threads = [threading.Thread(target=loop, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    return threads


def warm_every_thread(tracker, video):
    """Bring up every Flask thread of every worker, and each one's database connection, with a burst
    of parallel lookups: memory and descriptors are then read from a warm server, as the attack's
    slower answers would otherwise be the first to need them all."""
    def burst(_):
        with requests.Session() as session:
            for _ in range(20):
                session.get(f"{tracker.url}/api/v1/videos/{video}/sources", timeout=30)
    threads = [threading.Thread(target=burst, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def warm_every_upload(network, tracker, clip, most=12):
    """Upload `clip` until on every edge the worker that runs the jobs (the one holding the background
    lock) has loaded PyAV, which the segmenter's probe imports on its first job (segmenter/probe.py):
    about 26 MiB once, which read after warm-up would pass for growth. The tracker places each upload
    on one edge, hence a loop (at most `most`); the edges still cold are returned."""
    def cold():
        return [name for name, server in network.items() if name != "tracker"
                and not any("libavcodec" in read(f"/proc/{pid}/maps") for pid in server.workers())]
    for _ in range(most):
        if not cold():
            return []
        _, job = upload(tracker.url, clip, "warm-up")
        wait_published(job["status_url"], timeout=120)
    return cold()


def read(path):
    with open(path) as f:
        return f.read()


def segment_urls(tracker, video):
    """Every segment of the video's package, alternating between its two edges."""
    sources = requests.get(f"{tracker.url}/api/v1/videos/{video}/sources", timeout=10).json()["sources"]
    files = requests.get(f"{sources[0]['url']}/videos/{video}/manifest.json", timeout=10).json()["files"]
    names = sorted(name for name in files if name.endswith(".m4s"))
    return [f"{sources[i % len(sources)]['url']}/videos/{video}/{name}" for i, name in enumerate(names)]


# The attackers: one asyncio loop in a process of its own, so they take no time from the honest clients'
# threads. Each connection reconnects when cut, until the deadline.

async def slow_connection(port, source, request, trickle, deadline, counts):
    """Hold a connection open as long as the server lets it, sending `request` `trickle` bytes a second."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            counts["connect failed"] += 1
            await asyncio.sleep(1)
            continue
        counts["opened"] += 1
        answer = asyncio.ensure_future(reader.read(512))  # the server's cut, whenever it comes
        try:
            sent = 0
            while time.monotonic() < deadline and not answer.done():
                piece = request[sent:sent + trickle] or b"x" * trickle
                writer.write(piece)
                sent += len(piece)
                await asyncio.sleep(1)
            if answer.done():
                said = answer.result()
                counts[said.split(b" ", 2)[1].decode() if said.startswith(b"HTTP/") else "closed"] += 1
        except OSError:
            counts["reset"] += 1
        finally:
            answer.cancel()
            writer.close()


async def flood_placements(port, deadline, counts):
    """One address asking for placements as fast as it is answered."""
    body = b'{"title": "flood", "size": 1000000000}'
    head = (f"POST /api/v1/uploads HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.3.0.1", 0))
        closing = False
        while time.monotonic() < deadline and not closing:
            writer.write(head + body)
            status = (await reader.readline()).split(b" ")[1].decode()
            counts[f"placement {status}"] += 1
            length = 0
            while (line := (await reader.readline()).lower()) not in (b"\r\n", b""):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                closing = closing or line.startswith(b"connection: close")
            await reader.readexactly(length)
        writer.close()


async def attack(targets, slow, seconds, results):
    deadline = time.monotonic() + seconds
    counts = collections.Counter()
    tasks = []
    for role, port in targets.items():
        for n in range(slow):
            # role-specific second octet; PER_ADDRESS connections per address
            source = f"127.{10 + list(targets).index(role)}.{n // PER_ADDRESS // 250}.{n // PER_ADDRESS % 250 + 1}"
            if n % 2:
                request = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Padding: " + b"a" * 100_000
                trickle = 8  # a head a few bytes at a time: cut at SLIPSTREAM_HEADER_TIMEOUT
            else:
                path = b"/api/v1/nodes/announce" if role == "tracker" else b"/api/v1/uploads"
                request = b"POST " + path + b" HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\n" \
                                            b"Content-Length: 4000000\r\n\r\n"
                trickle = TRICKLE
            tasks.append(slow_connection(port, source, request, trickle, deadline, counts))
            if n % 50 == 49:
                await asyncio.sleep(0.05)  # open them over a few seconds, as a real attacker's script would
    tasks.append(flood_placements(targets["tracker"], deadline, counts))
    await asyncio.gather(*tasks)
    results.update(counts)


def run_attack(targets, slow, seconds, results):
    # A real attacker does not share the servers' CPUs; here it does, so it yields to them when both want one.
    os.nice(10)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * slow + 1024), hard))
    asyncio.run(attack(targets, slow, seconds, results))


def processes(server):
    """The gunicorn master of `server` and its workers."""
    pids, todo = [], [server.proc.pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(child) for child in f.read().split()]
        except FileNotFoundError:
            pass
    return pids


def footprint(servers):
    """{(server name, pid): (RSS in MiB, open descriptors)}."""
    sizes = {}
    for name, server in servers.items():
        for pid in processes(server):
            try:
                with open(f"/proc/{pid}/status") as f:
                    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
                sizes[name, pid] = (rss / 1024, len(os.listdir(f"/proc/{pid}/fd")))
            except (FileNotFoundError, StopIteration):
                pass
    return sizes


def descriptor_kinds(pid):
    """What a process's open descriptors are: sockets, pipes, the database, other files."""
    kinds = collections.Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        kinds[target.split(":")[0] if ":[" in target else os.path.basename(target)] += 1
    return dict(kinds)


def count_lines(server, text):
    return server.logs().count(text)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(recorder, phases):
    print(f"\n{'phase':9} {'kind':14} {'count':>7} {'failed':>7} {'p50 ms':>8} {'p99 ms':>8}")
    kinds = sorted({kind for _, kind in recorder.times} | {kind for _, kind in recorder.failures})
    for phase in phases:
        for kind in kinds:
            times, failed = recorder.times[phase, kind], recorder.failures[phase, kind]
            if times or failed:
                print(f"{phase:9} {kind:14} {len(times):7} {len(failed):7} {1000 * percentile(times, .5):8.0f} "
                      f"{1000 * percentile(times, .99):8.0f}")
    for (phase, kind), failed in sorted(recorder.failures.items()):
        if failed:
            print(f"  {phase} {kind} failures, first: {failed[0]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="the whole run, warm-up and baseline included")
    parser.add_argument("--baseline", type=float, default=60, help="seconds of honest traffic alone, after warm-up")
    parser.add_argument("--warm-up", type=float, default=30)
    parser.add_argument("--warm-up-attack", type=float, default=120, help="seconds of the attack within warm-up, "
                                                                          "long enough for trickled bodies to fill SLIPSTREAM_BODY_MEMORY, "
                                                                          "followed by the cool-down (0: none)")
    parser.add_argument("--cool-down", type=float, default=40, help="seconds of honest traffic after the attack, "
                                                                      "before memory and descriptors are read again")
    parser.add_argument("--upload-every", type=float, default=20, help="seconds between honest uploads (0: none)")
    parser.add_argument("--slow", type=int, default=1000, help="slow connections against each of tracker and edge")
    args = parser.parse_args(argv)
    attack_seconds = args.minutes * 60 - args.warm_up - args.baseline - args.cool_down
    if args.warm_up_attack:
        attack_seconds -= args.warm_up_attack + args.cool_down
    tmp = tempfile.mkdtemp(prefix="slipstream-soak-")
    network = {}
    try:
        network["tracker"] = Server("tracker", os.path.join(tmp, "tracker"), workers=2, env={
            "TRACKER_ALLOW_PRIVATE": "1", "TRACKER_ANNOUNCE_INTERVAL": str(INTERVAL)}).start()
        tracker = network["tracker"]
        for name in ("edge-a", "edge-b"):
            network[name] = start_edge(os.path.join(tmp, name), tracker.url, capacity="2GB", workers=2)
            wait_for(lambda: announced(network[name]), message=f"{name} announced")
        clip = make_clip(os.path.join(tmp, "clip.mp4"), seconds=12, width=1280, height=720)
        short = make_clip(os.path.join(tmp, "short.mp4"), seconds=1, width=320, height=180)
        _, job = upload(tracker.url, clip, "Soak clip")
        video = wait_published(job["status_url"], timeout=600)["video_id"]
        sources = lambda: requests.get(f"{tracker.url}/api/v1/videos/{video}/sources", timeout=10).json()  # noqa: E731
        wait_for(lambda: len(sources()["sources"]) == 2, timeout=300, message="the second copy audited")
        print(f"tracker {tracker.url}, edges {network['edge-a'].url} {network['edge-b'].url}; video {video}; "
              f"{os.cpu_count()} CPUs; announce interval {INTERVAL} s")

        recorder, stop = Recorder(), threading.Event()
        threads = honest_traffic(recorder, tracker, video, short, stop, args.upload_every)
        warm_every_thread(tracker, video)
        if args.upload_every and (cold := warm_every_upload(network, tracker, short)):
            print(f"edges without PyAV after the warm-up uploads: {cold}")
        time.sleep(args.warm_up)
        idle = footprint(network)
        if args.warm_up_attack:
            # The allocators' first high-water mark under attack stays for the process's life (bench/memory.py,
            # README "Benchmarks"): it belongs to warm-up, and what is read from here on is growth.
            burst = multiprocessing.Process(target=run_attack, args=(
                {"tracker": tracker.port, "edge": network["edge-a"].port}, args.slow, args.warm_up_attack, {}))
            burst.start()
            burst.join(args.warm_up_attack + 120)
            time.sleep(args.cool_down)
        before = footprint(network)
        failed_announces = {name: count_lines(network[name], "announce failed") for name in ("edge-a", "edge-b")}
        recorder.begin("baseline")
        time.sleep(args.baseline)
        recorder.begin("attacked")
        results = multiprocessing.Manager().dict()
        attacker = multiprocessing.Process(target=run_attack, args=(
            {"tracker": tracker.port, "edge": network["edge-a"].port}, args.slow, attack_seconds, results))
        attacker.start()
        held, during = [], []
        while attacker.is_alive():
            attacker.join(10)
            during.append(footprint(network))
            held.append(sum(fds for _, fds in during[-1].values()))
        recorder.begin("after")
        time.sleep(args.cool_down)  # honest traffic alone again, while the servers let go of the attack
        after = footprint(network)
        recorder.begin("stopped")
        stop.set()
        for thread in threads:
            thread.join(150)

        report(recorder, ("baseline", "attacked", "after"))
        rate = {phase: recorder.bytes[phase] / (recorder.started[later] - recorder.started[phase])
                for phase, later in (("baseline", "attacked"), ("attacked", "after"))}
        print(f"\nsegments: {rate['baseline'] / 2**20:.1f} MiB/s alone, {rate['attacked'] / 2**20:.1f} MiB/s attacked "
              f"(ratio {rate['attacked'] / rate['baseline']:.2f})")
        announces = {name: count_lines(network[name], "announce failed") - failed_announces[name]
                     for name in failed_announces}
        print(f"edge announces failed after warm-up: {announces}")
        print(f"attackers: {dict(sorted(results.items()))}; descriptors held by the servers during the attack: "
              f"max {max(held, default=0)}")
        # idle: before any attack; start: after warm-up (its attack burst included); attacked: the first and last
        # minute of the attack (growth with time shows there); end: after the cool-down.
        first, last = during[:6] or [{}], during[-6:] or [{}]
        print(f"\n{'process':22} {'RSS MiB idle':>12} {'start':>7} {'attacked':>8} {'…':>6} {'end':>7} {'growth':>7} "
              f"{'fds start':>9} {'end':>5}")
        for key in sorted(before):
            (rss0, fds0), (rss1, fds1) = before[key], after.get(key, (float("nan"), 0))
            early, late = (max(sample.get(key, (0, 0))[0] for sample in samples) for samples in (first, last))
            print(f"{key[0] + ' ' + str(key[1]):22} {idle.get(key, (float('nan'), 0))[0]:12.1f} {rss0:7.1f} "
                  f"{early:8.1f} {late:6.1f} {rss1:7.1f} {rss1 / rss0 - 1:7.1%} {fds0:9} {fds1:5}"
                  + (f"   now: {descriptor_kinds(key[1])}" if fds1 > fds0 else ""))
        honest_failures = sum(len(f) for (phase, _), f in recorder.failures.items() if phase not in ("warm-up", "stopped"))
        print(f"\nhonest requests failed: {honest_failures}")
        return 1 if honest_failures or any(announces.values()) else 0
    finally:
        for server in reversed(list(network.values())):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
