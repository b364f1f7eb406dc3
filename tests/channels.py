"""`ChannelKey`: a creator's channel as a test drives it, with a real Ed25519 key that signs every
request the way the website or `python -m tracker channel sign` does."""
import time

import nacl.signing

from protocol.signing import node_id, sign


class ChannelKey:
    def __init__(self):
        self.key = nacl.signing.SigningKey.generate()
        self.id = node_id(self.key)
        self.last = 0.0

    def stamp(self):
        """Unix seconds, strictly increasing, as a real client's clock."""
        self.last = max(time.time(), self.last + 0.001)
        return self.last

    def doc(self, **payload):
        """A signed request: `payload` with this channel and a fresh timestamp (both overridable)."""
        return sign({"channel": self.id, "timestamp": self.stamp(), **payload}, self.key)

    def placement(self, title="A channel clip", size=1000, **fields):
        return self.doc(title=title, size=size, **fields)
