"""Edge vs nginx, side by side on this machine (README.md, targets): `python bench/edge.py`.

Publishes a real video to an edge (tracker + edge under gunicorn, the normal upload path), then
serves the same files with nginx (Debian's package, a temporary config, non-daemon, loopback) and
with the edge, and loads both with wrk, one row per kind of file a player fetches (ROWS): a media
playlist, the manifest, the poster, the thumbnails' sprite and WebVTT index, the segment closest to
1 MiB and the largest segment (the top rendition's). `--rows playlist,largest` picks some.
A third row, `accel`, is the edge behind that nginx with EDGE_ACCEL_REDIRECT (the edge checks,
nginx sends). Prints requests/s, MB/s and the servers' CPU time per request for each, and the
ratios to plain nginx (CPU per request is the steadier figure on a shared machine). Needs `nginx`
and `wrk` on PATH (`apt-get install -y nginx wrk`).
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.actions import announced, upload, wait_for, wait_published  # noqa: E402
from tests.clips import make_clip  # noqa: E402
from tests.servers import Server, free_port, start_edge, start_tracker  # noqa: E402

# nginx as an anchor, in the foreground, with `servers` inside its http block.
NGINX_MAIN = """daemon off;
worker_processes {workers};
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; video/mp4 mp4; application/json json;
            text/html html; text/javascript js; image/jpeg jpg; }}
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
{servers}
}}
"""
NGINX_CONF = NGINX_MAIN.replace("{servers}", """    server {{
        listen 127.0.0.1:{port};
        location /videos/ {{ alias {videos}/; add_header Access-Control-Allow-Origin *; }}
    }}
    # The edge behind nginx: the edge checks each request, nginx sends the bytes (EDGE_ACCEL_REDIRECT).
    upstream edge {{ server 127.0.0.1:{accel_edge_port}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{accel_port};
        location /videos/ {{ proxy_pass http://edge; proxy_http_version 1.1; proxy_set_header Connection ""; }}
        location /_accel/ {{ internal; alias {videos}/; }}
    }}""")
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))  # gunicorn.conf.py's default, like nginx's 2
UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def wrk(url, seconds, connections, threads, pids=()):
    """(requests/s, MB/s, CPU µs the processes `pids` and their children spent per request, CPU µs wrk
    itself spent per request: where a server is not the bottleneck, the client's receiving is)."""
    cpu, client = cpu_seconds(pids), children_cpu()
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
                         check=True, capture_output=True, text=True).stdout
    cpu, client = cpu_seconds(pids) - cpu, children_cpu() - client
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw errors from {url}:\n{out}")
    requests_made = int(re.search(r"(\d+) requests in", out).group(1))
    return (rate, float(value) * UNITS[unit] / 10**6, 1e6 * cpu / max(requests_made, 1),
            1e6 * client / max(requests_made, 1))


def children_cpu():
    """User and system CPU seconds of this process's finished children (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pids):
    """User and system CPU seconds of the processes `pids` and their children, from /proc. Less
    swayed by other work on the machine than requests/s: what a server spends per request."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = [int(child) for child in f.read().split()]
        except FileNotFoundError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + cpu_seconds(children)
    return total


def start_nginx(videos, tmp, workers, accel_edge_port):
    port, accel_port = free_port(), free_port()
    user = "user root;" if os.geteuid() == 0 else ""  # temp dirs are 0700: workers must be able to read
    url = f"http://127.0.0.1:{port}"
    proc = launch_nginx(tmp, NGINX_CONF.format(workers=workers, user=user, tmp=tmp, port=port, videos=videos,
                                               accel_port=accel_port, accel_edge_port=accel_edge_port), url)
    return proc, url, f"http://127.0.0.1:{accel_port}"


def launch_nginx(tmp, conf, url):
    """nginx in the foreground with the config text `conf`, once `url` answers."""
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", os.path.join(tmp, "nginx.conf"),
                             "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _up(url), timeout=10, message="nginx listening")
    return proc


def tear_down(nginx, servers, tmp):
    if nginx:
        nginx.terminate()
        nginx.wait(10)
    for server in servers:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def _up(url):
    try:
        requests.get(url + "/", timeout=1)
        return True
    except requests.ConnectionError:
        return False


def publish(tmp):
    tracker = start_tracker(os.path.join(tmp, "tracker"))
    edge = start_edge(os.path.join(tmp, "edge"), tracker.url, capacity="2GB", workers=WORKERS)
    wait_for(lambda: announced(edge), message="the edge announced")
    clip = make_clip(os.path.join(tmp, "clip.mp4"), seconds=12, width=1920, height=1080)
    _, job = upload(tracker.url, clip, "Benchmark clip")
    video_id = wait_published(job["status_url"], timeout=600)["video_id"]
    return tracker, edge, video_id


# Each row's file in the package (its `files` in manifest.json), by what a player fetches.
ROWS = {
    "playlist": lambda files: max((n for n in files if n.endswith(".m3u8") and n != "master.m3u8"),
                                  key=lambda n: files[n]["size"]),
    "manifest": lambda files: "manifest.json",
    "poster": lambda files: "poster.jpg",
    "sprite": lambda files: next(n for n in files if n.endswith(".jpg") and n != "poster.jpg"),
    "vtt": lambda files: next(n for n in files if n.endswith(".vtt")),
    "segment": lambda files: min((n for n in files if n.endswith(".m4s")), key=lambda n: abs(files[n]["size"] - 2**20)),
    "largest": lambda files: max((n for n in files if n.endswith(".m4s")), key=lambda n: files[n]["size"]),
}


def pick_rows(files, wanted):
    """[(label, file name)] of the rows asked for (comma-separated labels of ROWS)."""
    labels = [label.strip() for label in wanted.split(",") if label.strip()]
    unknown = set(labels) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}; rows are {', '.join(ROWS)}")
    return [(label, ROWS[label](files)) for label in labels]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=5, help="runs per server; the median is printed")
    parser.add_argument("--nginx-workers", type=int, default=2, help="like gunicorn's WEB_CONCURRENCY=2")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of: {', '.join(ROWS)}")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="slipstream-bench-")
    servers, nginx = [], None
    try:
        tracker, edge, video_id = publish(tmp)
        servers = [edge, tracker]
        videos = os.path.join(edge.data_dir, "videos")
        manifest = requests.get(f"{edge.url}/videos/{video_id}/manifest.json", timeout=5)
        files = manifest.json()["files"]
        sizes = {name: entry["size"] for name, entry in files.items()} | {"manifest.json": len(manifest.content)}
        rows = pick_rows(files, args.rows)
        # A second edge process on the same data dir, in X-Accel-Redirect mode (no background threads).
        accel_edge = Server("edge", edge.data_dir, {**edge.env, "EDGE_BACKGROUND": "0",
                                                    "EDGE_ACCEL_REDIRECT": "/_accel"}, workers=WORKERS).start()
        servers.insert(0, accel_edge)
        nginx, nginx_url, accel_url = start_nginx(videos, tmp, args.nginx_workers, accel_edge.port)
        print(f"video {video_id}: " + ", ".join(f"{label} {name} ({sizes[name]} bytes)" for label, name in rows))
        print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; edge: {WORKERS} gunicorn workers "
              f"(edge/worker.py); nginx {args.nginx_workers} workers; {os.cpu_count()} CPUs\n")
        print(f"each figure: the median of {args.rounds} rounds, the servers taking turns in each\n")
        print(f"{'file':10} {'server':6} {'req/s':>10} {'MB/s':>9} {'CPU µs/req':>11} {'wrk µs/req':>11}")
        pids = {"nginx": [nginx.pid], "edge": [edge.proc.pid], "accel": [nginx.pid, accel_edge.proc.pid]}
        for label, name in rows:
            urls = {"nginx": nginx_url, "edge": edge.url, "accel": accel_url}
            runs = {server: [] for server in urls}
            for server, base in urls.items():
                assert requests.get(f"{base}/videos/{video_id}/{name}", timeout=5).content  # warm, and it works
            for _ in range(args.rounds):
                for server, base in urls.items():
                    runs[server].append(wrk(f"{base}/videos/{video_id}/{name}", args.seconds, args.connections,
                                            args.threads, pids[server]))
                    time.sleep(1)
            results = {server: [statistics.median(column) for column in zip(*found)] for server, found in runs.items()}
            for server, (rate, mbs, cpu, client) in results.items():
                print(f"{label:10} {server:6} {rate:10.0f} {mbs:9.1f} {cpu:11.1f} {client:11.1f}   (rounds: "
                      f"{', '.join(f'{run[0]:.0f}' for run in runs[server])})")
            print(f"{label:10} {'ratio':6} {results['edge'][0] / results['nginx'][0]:10.2f} (edge / nginx), "
                  f"{results['accel'][0] / results['nginx'][0]:.2f} (nginx + edge with X-Accel-Redirect / nginx); "
                  f"CPU per request: edge {results['edge'][2] / results['nginx'][2]:.2f} × nginx's\n")
    finally:
        tear_down(nginx, servers, tmp)


if __name__ == "__main__":
    main()
