"""`python -m tracker demo TRACKER_URL --data-dir DIR` (see demo.py)."""
import argparse
import os

from . import demo


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tracker", description="Slipstream tracker tools")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("demo", help="publish a demo video on a fresh network, then keep running")
    start.add_argument("tracker_url", help="the tracker's base URL, e.g. http://127.0.0.1:8000")
    start.add_argument("--data-dir", default=os.path.join("var", "demo"), help="where the clip is generated")
    args = parser.parse_args(argv)
    demo.run(args.tracker_url, args.data_dir)


if __name__ == "__main__":
    main()
