"""Home edges holding a video nobody else holds, as the end-to-end tests need them: the owner uploads
from home to an edge on the public side (a home edge takes no uploads: nobody outside can open its
URL), the home edges copy it from there as the tracker's replicas, then that public edge stops."""
import json
import sys

from tests.actions import wait_for
from tests.netns.https import trusting
from tests.servers import start_edge

EDGE_PORT = 8001  # each home's own port space: the same port in every home
PUBLIC_EDGE_PORT = 8002

UPLOAD = """import json, sys
from tests.actions import upload, wait_published
placement, job = upload("https://tracker.test", sys.argv[1], "Home clip")
print(json.dumps({"node": placement["node"], **wait_published(job["status_url"], timeout=600)}))"""


def python_inside(namespace, script, *args, ca_file):
    """A Python program run inside `namespace` from the worktree (names from its hosts file; https
    trusted through the test CA); its last output line, as JSON."""
    done = namespace.run("env", *(f"{name}={value}" for name, value in trusting(ca_file).items()),
                         sys.executable, "-c", script, *args)
    return json.loads(done.stdout.splitlines()[-1])


def status(edge):
    return edge.get("/api/v1/status", timeout=5).json()


class HomeEdges:
    """Edges in `homes` (e.g. ("home1", "home2")) at http://<home address>:8001, announcing to the https
    tracker through their NATs, and a video only they hold (`video_id`). `edges[home]`, `nodes[home]`."""

    def __init__(self, internet, tracker, clip, folder, homes):
        ca = tracker.proxy.ca_file
        self.servers, self.edges = [], {}
        try:
            for home in homes:
                self.edges[home] = self._start(folder / home, tracker, internet[home], EDGE_PORT, ca, EDGE_UPNP="0")
            public = self._start(folder / "public-edge", tracker, internet["public"], PUBLIC_EDGE_PORT, ca)
            for edge in self.servers:
                wait_for(lambda edge=edge: status(edge).get("tracker"), timeout=60,
                         message="the edges' announces answered (a home edge's once its socket is proven)")
            done = python_inside(internet[homes[0]], UPLOAD, str(clip), ca_file=ca)
            assert done["node"] == status(public)["node"]  # the home edges took no upload
            self.video_id = done["video_id"]
            for edge in self.edges.values():
                wait_for(lambda edge=edge: self.video_id in status(edge)["videos"], timeout=120,
                         message="a home edge's copy")
            public.stop()
            self.nodes = {home: status(edge)["node"] for home, edge in self.edges.items()}
        except BaseException:
            self.stop()
            raise

    def _start(self, folder, tracker, namespace, port, ca, **env):
        self.servers.append(start_edge(folder, tracker.proxy.url, port=port, namespace=namespace,
                                       **trusting(ca), **env))
        return self.servers[-1]

    def stop(self):
        for server in self.servers:
            server.stop()
