"""Command line: `python -m segmenter INPUT OUTDIR` and `python -m segmenter verify DIR [ID]`."""
import argparse
import os
import sys

from . import SegmenterError, package
from protocol.ids import canonical_json, content_id, is_video_id
from protocol.manifest import MANIFEST_NAME, parse_manifest, verify_dir

BAR = 30


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["verify"]:
        return verify(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m segmenter",
                                     description="Package a video into content-addressed HLS. "
                                                 "Also: python -m segmenter verify DIR [ID]")
    parser.add_argument("input", help="the video file to package")
    parser.add_argument("outdir", help="an empty or new folder for the package")
    args = parser.parse_args(argv)
    try:
        vid, _ = package(args.input, args.outdir, on_progress=show_progress)
    except SegmenterError as exc:
        sys.stderr.write(f"\nerror: {exc}\n")
        return 2
    sys.stderr.write("\n")
    print(vid)
    return 0


def show_progress(update):
    filled = int(update["progress"] * BAR)
    speed = f" {update['speed']:.2f}x" if update["speed"] else ""
    eta = f" eta {clock(update['eta'])}" if update["eta"] else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {update['progress']:4.0%}{speed}{eta}   ")
    sys.stderr.flush()


def clock(seconds):
    """12s, 4:05, 1:02:03: short while short, unambiguous when long."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def verify(argv):
    parser = argparse.ArgumentParser(prog="python -m segmenter verify",
                                     description="Check a package against its manifest.json")
    parser.add_argument("directory")
    parser.add_argument("id", nargs="?", help="the expected video id (40 hex characters)")
    args = parser.parse_args(argv)
    if args.id is not None and not is_video_id(args.id):
        parser.error("the id must be 40 lowercase hex characters")
    problems = verify_dir(args.directory, args.id)
    if not problems:
        with open(os.path.join(args.directory, MANIFEST_NAME), "rb") as f:
            data = f.read()
        if canonical_json(parse_manifest(data)) != data:
            problems.append(f"{MANIFEST_NAME}: not canonical JSON, so its id is ambiguous")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"ok {content_id(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
