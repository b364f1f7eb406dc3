"""Donations credit only what can have happened (README.md, trust model).

A player reports which edges served how many bytes, and anyone can send any report. So an entry of
`served` earns its node a share only if that node passed an audit of the video within the last
TRACKER_SERVED_WINDOW seconds (nodes/models.py, Custody), and for at most TRACKER_SERVED_FACTOR times
the package's size. Claims still weigh in the split up to that bound, so a liar cannot enlarge the
edges' part; what a claim does not earn goes to the creator, and the answer lists it with the reason.
"""
from ..nodes.models import Custody


def credit(video, served, now, config):
    """(claims capped at the bound {node: bytes}, earning nodes {node}, uncredited entries [...])."""
    bound = config["TRACKER_SERVED_FACTOR"] * video.size
    claims = {node: min(count, bound) for node, count in served.items() if count > 0}
    holders = Custody.holders(video.id, claims, now - config["TRACKER_SERVED_WINDOW"]) if claims else set()
    uncredited = []
    for node, count in served.items():
        if count > 0 and node not in holders:
            uncredited.append({"node": node, "bytes": count, "reason": "no_audited_copy"})
        elif count > bound:
            uncredited.append({"node": node, "bytes": count - bound, "reason": "over_bound"})
    return claims, holders, uncredited
