"""How much room this edge has, counting what is promised and what is still arriving.

Every byte counts once: written bytes in `Node.used()` (videos/, uploads/ and staging/, so
replicas and packages being written count as they land), promised bytes not yet written in
`outstanding`. The disk's free space (statvfs) already lacks the written bytes, and also what no
directory shows, such as a request body the event loop is receiving into a nameless file.
"""
from .files import size_or_zero
from .models import Hold
from .node import tree_size


def outstanding(node):
    """Bytes the holds still promise beyond what their files already take on disk."""
    total = 0
    for hold in Hold.select(Hold.id, Hold.kind, Hold.size):
        # A replica arrives in staging/<hold>/, an upload in uploads/<hold>.part.
        path = node.staging_path(hold.id) if hold.kind == "replica" else node.part_path(hold.id)
        written = tree_size(path) if hold.kind == "replica" else size_or_zero(path)
        total += max(hold.size - written, 0)
    return total


def free_space(node, used=None, promised=None, spooled=0):
    """What a new transfer may still take: within EDGE_CAPACITY and within the real disk less
    EDGE_DISK_MARGIN, after every hold's promise. Negative when the disk shrank under the promises.
    `spooled`: bytes that will sit on the disk meanwhile, in no directory we count."""
    used = node.used() if used is None else used
    promised = outstanding(node) if promised is None else promised
    return min(node.capacity - used, node.disk_free() - spooled) - promised


def report(node):
    """The figures an announce and /api/v1/status give: `used` includes the promised bytes, since
    they are as good as taken; `capacity` is EDGE_CAPACITY, or less when the disk has less room."""
    written, promised = node.used(), outstanding(node)
    free = max(free_space(node, written, promised), 0)
    used = written + promised
    return {"capacity": min(node.capacity, used + free), "free": free, "used": used, "reserved": promised}
