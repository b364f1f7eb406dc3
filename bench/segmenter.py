"""Ladder transcode benchmark (README.md, targets): `segmenter.package` against the equivalent
hand-written ffmpeg command line, and against the same ladder as separate ffmpeg processes.

    .venv/bin/python bench/segmenter.py [--seconds 60] [--keep DIR] [--repeat N] [--no-separate]

Generates a 1080p30 source with lavfi first (not timed), then times each way of packaging it and
prints wall time, CPU seconds (ffmpeg children plus this process) and the ratios, and the SSIM of
every rendition of ours and of the hand-written command's first round against the source (ffmpeg's
`ssim` filter, each rendition scaled back to the source's size, as a player shows it). Target
(issue 17): ours <= 0.9 x hand-written's wall time with every rendition's SSIM within 0.005 of the
hand-written one's; one process faster than separate processes.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from segmenter import ladder, package  # noqa: E402
from segmenter.config import ffmpeg_binary  # noqa: E402
from segmenter.probe import probe  # noqa: E402

FFMPEG = ffmpeg_binary()


def generate(path, seconds):
    subprocess.run([FFMPEG, "-nostdin", "-y", "-loglevel", "error",
                    "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-ac", "2", path], check=True)


def video_flags(i, r):
    return [f"-b:v:{i}", f"{r.video_kbps}k", f"-maxrate:v:{i}", f"{r.maxrate_kbps}k",
            f"-bufsize:v:{i}", f"{r.bufsize_kbps}k", f"-level:v:{i}", r.level]


COMMON = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
          "-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0",
          "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000",
          "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
          "-hls_segment_type", "fmp4", "-hls_flags", "independent_segments"]


def hand_written(src, plan):
    """What a person would type: one process, split + scale, every variant, master playlist."""
    outs = "".join(f"[v{i}]" for i in range(len(plan)))
    graph = f"[0:v]split={len(plan)}{outs};" + ";".join(
        f"[v{i}]scale={r.width}:{r.height}[o{i}]" for i, r in enumerate(plan))
    argv = [FFMPEG, "-nostdin", "-y", "-loglevel", "error", "-i", src, "-filter_complex", graph]
    for i, r in enumerate(plan):
        argv += ["-map", f"[o{i}]", "-map", "0:a"] + video_flags(i, r)
    groups = " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(plan))
    return [argv + COMMON + ["-var_stream_map", groups, "-master_pl_name", "master.m3u8",
                             "-hls_segment_filename", "%v_%05d.m4s", "%v.m3u8"]]


def separate(src, plan):
    """The same ladder as one ffmpeg process per rendition (decoding the source each time)."""
    return [[FFMPEG, "-nostdin", "-y", "-loglevel", "error", "-i", src,
             "-vf", f"scale={r.width}:{r.height}", "-map", "0:v", "-map", "0:a", *video_flags(0, r),
             *COMMON, "-hls_segment_filename", f"{r.name}_%05d.m4s", f"{r.name}.m3u8"]
            for r in plan]


def ssim(src, outdir, rendition, size):
    """SSIM (ffmpeg's `ssim` filter, All) of a rendition, scaled to the source's size, against it."""
    width, height = size
    graph = (f"[0:v]setpts=PTS-STARTPTS,scale={width}:{height}:flags=bicubic,setsar=1[seen];"
             "[1:v]setpts=PTS-STARTPTS,setsar=1[source];[seen][source]ssim")
    done = subprocess.run([FFMPEG, "-nostdin", "-nostats", "-i", os.path.join(outdir, f"{rendition}.m3u8"),
                           "-i", src, "-lavfi", graph, "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    return float(re.findall(r"SSIM .* All:([0-9.]+)", done.stderr)[-1])


def cpu_seconds():
    children, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime


def timed(label, work, root, measure=None):
    """(wall, cpu) of `work(outdir)`; `measure(outdir)` then looks at the output, untimed."""
    outdir = tempfile.mkdtemp(prefix=label + "-", dir=root)
    cpu, wall = cpu_seconds(), time.monotonic()
    work(outdir)
    wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu
    print(f"{label:13s} wall {wall:7.1f} s   cpu {cpu:7.1f} s   load {os.getloadavg()[0]:.2f}", flush=True)
    if measure is not None:
        measure(outdir)
    shutil.rmtree(outdir)
    return wall, cpu


def run_all(commands):
    def work(outdir):
        for argv in commands:
            subprocess.run(argv, cwd=outdir, check=True)
    return work


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keep", help="reuse/keep the generated source in this folder")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds; best is kept")
    parser.add_argument("--no-separate", action="store_true", help="skip the separate processes")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="bench-segmenter-")
    os.makedirs(root, exist_ok=True)
    src = os.path.join(root, f"source-1080p30-{args.seconds}s.mp4")
    if not os.path.exists(src):
        print(f"generating {src} (not timed)", flush=True)
        generate(src, args.seconds)
    plan = ladder.plan(probe(src))
    print("ladder:", ", ".join(f"{r.name} {r.width}x{r.height} {r.video_kbps}k" for r in plan))
    print("hand-written:", subprocess.list2cmdline(hand_written(src, plan)[0]))
    print(f"ffmpeg {FFMPEG}, {os.cpu_count()} cores", flush=True)
    runs = {"hand-written": [], "segmenter": [], "separate": []}
    quality = {"hand-written": {}, "segmenter": {}}
    size = (plan[0].width, plan[0].height)

    def measure(label, subdir=""):
        def look(outdir):
            if not quality[label]:  # the first round's: encodes differ little between rounds
                quality[label].update((r.name, ssim(src, os.path.join(outdir, subdir), r.name, size))
                                      for r in plan)
        return look

    for _ in range(args.repeat):  # interleaved, so a burst of load hits every contender alike
        print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
        runs["hand-written"].append(timed("hand-written", run_all(hand_written(src, plan)), root,
                                          measure("hand-written")))
        runs["segmenter"].append(timed("segmenter", lambda outdir: package(
            src, os.path.join(outdir, "pkg")), root, measure("segmenter", "pkg")))
        if not args.no_separate:
            runs["separate"].append(timed("separate", run_all(separate(src, plan)), root))
    print(f"load average {os.getloadavg()[0]:.2f}; best of {args.repeat}:", flush=True)
    # The fastest run of each is the one least disturbed by other work on the machine.
    hand, ours = (min(runs[name]) for name in ("hand-written", "segmenter"))
    worst = 0.0
    for r in plan:
        theirs, mine = quality["hand-written"][r.name], quality["segmenter"][r.name]
        worst = max(worst, theirs - mine)
        print(f"SSIM {r.name:6s} hand-written {theirs:.4f}   ours {mine:.4f}   diff {mine - theirs:+.4f}")
    print(f"ours/hand-written      wall {ours[0] / hand[0]:.3f}   cpu {ours[1] / hand[1]:.3f}"
          f"   (target wall <= 0.9; SSIM at most 0.005 below: {'met' if worst <= 0.005 else 'NOT met'})")
    if runs["separate"]:
        apart = min(runs["separate"])
        print(f"separate/single        wall {apart[0] / hand[0]:.3f}   cpu {apart[1] / hand[1]:.3f}"
              "   (target > 1)")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
