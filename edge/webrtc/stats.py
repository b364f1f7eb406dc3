"""The WebRTC loop's counters (bytes sent over data channels, open peer connections), kept in
`webrtc.json` in the data dir so that /metrics, whichever worker answers it, reports them (edge/metrics.py
reads everything at scrape time). No aiortc here: every worker imports this."""
import json
import os

STATS_FILE = "webrtc.json"


class Stats:
    def __init__(self, path):
        self.path = path
        self.bytes, self.open = read_stats(path).get("sent_bytes", 0), 0

    def sent(self, count):
        self.bytes += count

    def peers(self, count):
        self.open = count

    def write(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w") as f:
            json.dump({"sent_bytes": self.bytes, "peers": self.open}, f)
        os.replace(temporary, self.path)


def read_stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
