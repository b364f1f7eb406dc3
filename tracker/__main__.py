"""`python -m tracker demo TRACKER_URL --data-dir DIR` (see demo.py);
`python -m tracker ledger check|export DIR` on the database DATABASE_URL names (see ledger/audit.py);
`python -m tracker key [--data-dir DIR]`: a TRACKER_KEY value (see identity.py);
`python -m tracker channel new|show|sign`: a channel's key (see channels/cli.py)."""
import argparse
import os
import sys

from . import demo, identity
from .channels import cli as channel_cli
from .ledger import audit as ledger_audit


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tracker", description="Slipstream tracker tools")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("demo", help="publish a demo video on a fresh network, then keep running")
    start.add_argument("tracker_url", help="the tracker's base URL, e.g. http://127.0.0.1:8000")
    start.add_argument("--data-dir", default=os.path.join("var", "demo"), help="where the clip is generated")
    ledger = commands.add_parser("ledger", help="the donation ledger, on the database DATABASE_URL names")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_commands.add_parser("check", help="verify every invariant; exit 1 naming each breach")
    export = ledger_commands.add_parser("export", help="write a CSV statement per account")
    export.add_argument("directory", help="where the CSV files go (created if missing)")
    key = commands.add_parser("key", help="print a TRACKER_KEY value: the seed of DIR's key file, else a new one")
    key.add_argument("--data-dir", help="a tracker's data dir, to keep its identity when moving it to TRACKER_KEY")
    channel_cli.add_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "channel":
        sys.exit(channel_cli.run(args))
    if args.command == "key":
        print(identity.seed_hex(args.data_dir))
        return
    if args.command == "ledger":
        sys.exit(ledger_audit.run(args.ledger_command, getattr(args, "directory", None)))
    demo.run(args.tracker_url, args.data_dir)


if __name__ == "__main__":
    main()
