"""Start real gunicorn servers on free loopback ports, as an operator would."""
import os
import signal
import socket
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `SLIPSTREAM_ROLE=... gunicorn wsgi:app` process on 127.0.0.1."""

    def __init__(self, role, data_dir, env=None, port=None, workers=1, config=None, root=ROOT, namespace=None):
        """`config`: a gunicorn settings file to run with instead of the project's gunicorn.conf.py
        (tests/runtime/gunicorn_probe.py, which adds a look inside the workers to it); `root`: the
        source tree to run (bench/scale.py runs an older commit's beside this one); `namespace`: a
        tests/netns Namespace to run in, bound to its address instead of loopback."""
        self.role, self.data_dir, self.config, self.root = role, str(data_dir), config, root
        self.namespace = namespace
        self.host = namespace.address if namespace else "127.0.0.1"
        self.port = port or free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.env = {
            **os.environ,
            "SLIPSTREAM_ROLE": role,
            "SLIPSTREAM_DATA_DIR": self.data_dir,
            "SLIPSTREAM_PUBLIC_URL": self.url,
            "WEB_CONCURRENCY": str(workers),
            # STUN off unless a test asks for it: trackers started side by side would share its default port.
            "TRACKER_STUN_PORT": "0",
            **(env or {}),
        }
        self.proc = None

    def start(self, timeout=30):
        os.makedirs(self.data_dir, exist_ok=True)
        self.log = open(os.path.join(self.data_dir, f"{self.role}.log"), "ab")
        argv = [sys.executable, "-m", "gunicorn", *(["-c", self.config] if self.config else []),
                "-b", f"{self.host}:{self.port}", "wsgi:app"]
        self.proc = subprocess.Popen(
            self.namespace.command(argv) if self.namespace else argv, cwd=self.root, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.role} exited early; see {self.log.name}")
            try:
                if self.get("/healthz", timeout=1).ok:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # workers still booting
                pass
            time.sleep(0.1)
        self.kill()  # never leave a half-started server behind
        raise RuntimeError(f"{self.role} did not become healthy; see {self.log.name}")

    def get(self, path, **kwargs):
        """GET one of its paths from where it can be reached: inside its namespace, if it has one."""
        if self.namespace:
            return self.namespace.call(requests.get, self.url + path, **kwargs)
        return requests.get(self.url + path, **kwargs)

    def stop(self):
        self._signal(signal.SIGTERM)

    def kill(self):
        self._signal(signal.SIGKILL)

    def _signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def workers(self):
        """The process ids of the gunicorn master's workers."""
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
            return [int(pid) for pid in f.read().split()]

    def logs(self):
        with open(os.path.join(self.data_dir, f"{self.role}.log"), "rb") as f:
            return f.read().decode(errors="replace")


# Every test request comes from 127.0.0.1, so tests that place or donate in loops, or place more
# than a person would, would meet the per-address limits; tests of those limits set their own.
GENEROUS_LIMITS = {**{f"TRACKER_RATE_{name}{burst}": 10_000
                      for name in ("PLACEMENTS", "DONATIONS", "LOOKUPS", "FLAGS", "CHANNELS")
                      for burst in ("", "_BURST")}, "TRACKER_RATE_RESERVED": 10**13,
                   "TRACKER_RATE_RESERVED_SHARE": 0}


def start_tracker(data_dir, port=None, config=None, namespace=None, **env):
    """`port`: a port chosen before, for trackers that must name each other in TRACKER_PEERS;
    `namespace`: a tests/netns Namespace to run in."""
    return Server("tracker", data_dir, {"TRACKER_ALLOW_PRIVATE": "1", "TRACKER_ANNOUNCE_INTERVAL": "1",
                                        **{name: str(value) for name, value in GENEROUS_LIMITS.items()},
                                        **env}, port=port, config=config, namespace=namespace).start()


def start_edge(data_dir, tracker_url, capacity="200MB", workers=1, config=None, port=None, namespace=None, **env):
    return Server("edge", data_dir, {
        "EDGE_TRACKER_URL": tracker_url,
        "EDGE_CAPACITY": capacity,
        "EDGE_ADMIN_TOKEN": "test-admin-token",
        "EDGE_ALLOW_PRIVATE": "1",  # replication pulls from the other edges, all on loopback
        **env,
    }, workers=workers, config=config, port=port, namespace=namespace).start()
