"""`ChannelKey`: a creator's channel as a test drives it, with a real Ed25519 key that signs every
request the way the website or `python -m tracker channel sign` does (or, with `signer="node"`, a node's
key signing its payout claims as `python -m edge payout` does)."""
import time

import nacl.signing

from protocol.signing import node_id, sign


class ChannelKey:
    def __init__(self, key=None, signer="channel"):
        self.key = key or nacl.signing.SigningKey.generate()
        self.id = node_id(self.key)
        self.signer, self.account = signer, f"{signer}:{self.id}"
        self.last = 0.0

    def stamp(self):
        """Unix seconds, strictly increasing, as a real client's clock."""
        self.last = max(time.time(), self.last + 0.001)
        return self.last

    def doc(self, **payload):
        """A signed request: `payload` with this channel and a fresh timestamp (both overridable), and
        no action unless `payload` names one (the helpers below each name theirs)."""
        return sign({self.signer: self.id, "timestamp": self.stamp(), **payload}, self.key)

    def placement(self, title="A channel clip", size=1000, **fields):
        return self.doc(action="upload", title=title, size=size, **fields)

    def update(self, **fields):
        """POST /api/v1/channels: the channel's name and description."""
        return self.doc(action="channel", **fields)

    def edit(self, video_id, **fields):
        """PATCH /api/v1/videos/<video_id>."""
        return self.doc(action="edit", video_id=video_id, **fields)

    def delete(self, video_id, **fields):
        """DELETE /api/v1/videos/<video_id>."""
        return self.doc(action="delete", video_id=video_id, **fields)

    def listing(self, page=1, **fields):
        """POST /api/v1/channels/<id>/videos: one page of all this channel's videos, for its key only."""
        return self.doc(action="list", page=page, **fields)

    def claim(self, amount=400, currency="EUR", destination="IBAN DE02 1203 0000 0000 2020 51", **fields):
        """A payout claim on this key's account."""
        return self.doc(action="payout", amount=amount, currency=currency, destination=destination, **fields)
