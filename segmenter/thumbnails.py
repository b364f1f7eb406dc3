"""Seek-bar preview thumbnails: one sprite sheet JPEG and a WebVTT track of `#xywh=` cues into it.

The sheet is another output of the encoding ffmpeg process (command.encode_args), so the source is
decoded once; this module plans its geometry and writes the track, which ffmpeg does not.
"""
import math
import os
from dataclasses import dataclass

SPRITE = "sprite.jpg"
TRACK = "thumbnails.vtt"
MAX_THUMBS = 100     # one sheet of at most 10x10 cells: a ~1600x900 JPEG of a few hundred KB
COLUMNS = 10
MIN_INTERVAL = 2     # seconds between thumbnails; longer videos space them out to fit MAX_THUMBS
BOX = 160            # a thumbnail's long side, in pixels (160x90 for 16:9, as YouTube's seek bar)


@dataclass(frozen=True)
class Sheet:
    interval: int    # a thumbnail every `interval` seconds, the first at 0
    count: int
    columns: int
    rows: int
    width: int       # of one thumbnail (even, so JPEG chroma subsampling stays exact)
    height: int

    @property
    def tile(self):
        return f"{self.columns}x{self.rows}"

    @property
    def size(self):
        """(width, height) of the whole sheet."""
        return self.columns * self.width, self.rows * self.height


def plan(duration, width, height):
    """The sheet for a video of `duration` seconds shown at `width`x`height`; never upscaled."""
    interval = max(MIN_INTERVAL, math.ceil(duration / MAX_THUMBS))
    count = max(1, min(MAX_THUMBS, math.ceil(duration / interval)))
    scale = min(1.0, BOX / max(width, height))
    thumb_w, thumb_h = (max(2, int(round(side * scale / 2)) * 2) for side in (width, height))
    columns = min(COLUMNS, count)
    return Sheet(interval, count, columns, math.ceil(count / columns), thumb_w, thumb_h)


def cues(sheet, duration):
    """(start, end, x, y) of every thumbnail, in playback order; the last ends at `duration`."""
    result = []
    for i in range(sheet.count):
        start = i * sheet.interval
        end = min(start + sheet.interval, duration)
        x, y = (i % sheet.columns) * sheet.width, (i // sheet.columns) * sheet.height
        result.append((start, max(end, start + 0.001), x, y))
    return result


def write_track(directory, sheet, duration):
    """Write thumbnails.vtt: the de-facto thumbnail track (JW Player, Video.js, Plyr, Vidstack)."""
    lines = ["WEBVTT", ""]
    for start, end, x, y in cues(sheet, duration):
        lines += [f"{_timestamp(start)} --> {_timestamp(end)}",
                  f"{SPRITE}#xywh={x},{y},{sheet.width},{sheet.height}", ""]
    with open(os.path.join(directory, TRACK), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def _timestamp(seconds):
    """WebVTT's hh:mm:ss.ttt (W3C WebVTT 4.2: hours may exceed two digits, never omitted here)."""
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
