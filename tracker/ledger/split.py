"""How a donation is shared: creator, edges by bytes served, finding tracker (`TRACKER_SPLIT`).

The setting is integer weights, `creator=90,edges=7,tracker=3` by default (percent, but any scale
works: `creator=9000,edges=725,tracker=275` is basis points). Each edge's weight is the edges'
weight times its share of the bytes served. When no bytes were served (the viewer donated before
playing, or every count is 0) nobody streamed anything, so the edges' weight goes to the creator.

Rounding is largest remainder (Hamilton's method) in exact integer arithmetic: every party gets the
floor of its exact share, and the minor units left over go one each to the parties with the
largest remainders (ties: the order of the parties, creator first). The shares therefore always
add up to the amount exactly: rounding never creates or loses a minor unit.
"""
ROLES = ("creator", "edges", "tracker")
DEFAULT = {"creator": 90, "edges": 7, "tracker": 3}


def parse_split(name, text):
    """`creator=90,edges=7,tracker=3` → {"creator": 90, "edges": 7, "tracker": 3}, or a ValueError."""
    weights = {}
    for item in text.split(","):
        role, _, value = item.partition("=")
        role, value = role.strip(), value.strip()
        if role not in ROLES or role in weights or not (value.isascii() and value.isdecimal()):
            raise ValueError(f"{name} must look like 'creator=90,edges=7,tracker=3', not {text!r}")
        weights[role] = int(value)
    return check_weights(name, {role: weights.get(role, 0) for role in ROLES})


def check_weights(name, weights):
    if set(weights) != set(ROLES) or any(not isinstance(w, int) or w < 0 for w in weights.values()) \
            or not sum(weights.values()):
        raise ValueError(f"{name} needs non-negative integer weights for {', '.join(ROLES)}, not all 0")
    return weights


def largest_remainder(amount, weights):
    """Split `amount` (an integer ≥ 0) in proportion to integer `weights`; the parts sum to `amount`."""
    total = sum(weights)
    parts = [amount * w // total for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:amount - sum(parts)]:
        parts[i] += 1
    return parts


def split(amount, weights, served):
    """[(party, share)] with party ("creator",), ("node", node id) or ("tracker",); zero shares left out.

    `weights` is the TRACKER_SPLIT setting; `served` maps node ids to bytes they delivered."""
    served = {node: n for node, n in sorted(served.items()) if n > 0}
    total_bytes = sum(served.values())
    if total_bytes:
        parties = [("creator",)] + [("node", node) for node in served] + [("tracker",)]
        scaled = [weights["creator"] * total_bytes] + [weights["edges"] * n for n in served.values()] \
            + [weights["tracker"] * total_bytes]
    else:
        parties = [("creator",), ("tracker",)]
        scaled = [weights["creator"] + weights["edges"], weights["tracker"]]
    shares = largest_remainder(amount, scaled)
    return [(party, share) for party, share in zip(parties, shares) if share]
