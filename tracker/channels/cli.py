"""`python -m tracker channel new|show|sign`: a channel's key for scripts (the website keeps its own
in the browser). The key file holds the Ed25519 seed, 32 bytes, readable by its owner only; losing
it loses the channel, since nobody else can sign for it."""
import json
import os
import sys
import time

import nacl.signing

from protocol.signing import node_id, sign

from ..signed import ACTIONS

DEFAULT_KEY = "channel.key"


def add_commands(commands):
    channel = commands.add_parser("channel", help="a channel's key: make one, show its id, sign a request")
    actions = channel.add_subparsers(dest="channel_command", required=True)
    new = actions.add_parser("new", help="make a key file (never overwritten) and print the channel id")
    show = actions.add_parser("show", help="print the channel id of a key file")
    signing = actions.add_parser("sign", help="print the signed envelope of a JSON payload, adding action, "
                                              "channel and timestamp")
    # Required: each endpoint takes only documents of its own action (signed.py).
    signing.add_argument("action", choices=ACTIONS, help="what the document is for: upload (POST /api/v1/uploads), "
                         "channel (POST /api/v1/channels), edit (PATCH), delete (DELETE), payout, list "
                         "(POST /api/v1/channels/<id>/videos)")
    signing.add_argument("payload", help="the request's JSON object, e.g. '{\"name\": \"My channel\"}'")
    for parser in (new, show, signing):
        parser.add_argument("--key", default=DEFAULT_KEY, help=f"the key file (default {DEFAULT_KEY})")


def run(args):
    """Carry out a parsed `channel` command; returns the exit status."""
    if args.channel_command == "new":
        key = nacl.signing.SigningKey.generate()
        try:
            # O_EXCL: an existing key is a channel someone owns; 0600: only its owner may sign.
            fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            print(f"{args.key} exists: it may be a channel's only key, so it is not overwritten", file=sys.stderr)
            return 1
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(key))
        print(node_id(key))
        return 0
    try:
        with open(args.key, "rb") as f:
            key = nacl.signing.SigningKey(f.read())
    except (OSError, ValueError, TypeError) as exc:
        print(f"cannot read the key {args.key}: {exc}", file=sys.stderr)
        return 1
    if args.channel_command == "show":
        print(node_id(key))
        return 0
    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        print(f"the payload is not JSON: {exc}", file=sys.stderr)
        return 1
    if not isinstance(payload, dict):
        print("the payload must be a JSON object", file=sys.stderr)
        return 1
    print(json.dumps(sign({**payload, "action": args.action, "channel": node_id(key), "timestamp": time.time()}, key)))
    return 0
