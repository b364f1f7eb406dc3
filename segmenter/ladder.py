"""The bitrate ladder as data, and the plan of renditions for one probed source."""
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Rung:
    name: str
    height: int        # the box is height x height*16/9 (turned for portrait sources)
    video_kbps: int    # average target, close to Apple's HLS authoring spec for 16:9 at 30 fps
    maxrate_kbps: int  # VBV peak: ~1.07x keeps segments near the average (Apple: peak <= 2x avg)
    bufsize_kbps: int  # VBV buffer ~1.5x: a GOP (2 s) can breathe without blowing the peak


LADDER = (
    Rung("1080p", 1080, 6000, 6420, 9000),
    Rung("720p", 720, 3000, 3210, 4500),
    Rung("480p", 480, 1400, 1498, 2100),
    Rung("360p", 360, 800, 856, 1200),
    Rung("240p", 240, 400, 428, 600),
)
AUDIO_KBPS = 128
SHARED_AUDIO = "audio"  # the file stem of the audio rendition: an audio-only source's or the shared one
MAX_RENDITIONS = 4     # 1080/720/480/360 for an HD source: one decode, four encodes
HIGH_FPS_FACTOR = 1.5  # 50/60 fps rungs get more bits, as in Apple's table
STANDARD_RATES = tuple(Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30",
                                             "50", "60000/1001", "60"))

# H.264 levels (ITU-T H.264 Table A-1): name, max macroblocks per frame, per second, max kbit/s
# (x1.25 for High profile). Every rendition stays at or below 4.2 (README.md, HLS package).
LEVELS = (("2.1", 792, 19800, 4000), ("2.2", 1620, 20250, 4000), ("3.0", 1620, 40500, 10000),
          ("3.1", 3600, 108000, 14000), ("3.2", 5120, 216000, 20000), ("4.0", 8192, 245760, 20000),
          ("4.1", 8192, 245760, 50000), ("4.2", 8704, 522240, 50000))


@dataclass(frozen=True)
class Rendition:
    name: str                 # file stem: <name>.m3u8, <name>_init.mp4, <name>_00000.m4s
    width: int | None         # None for the audio-only rendition
    height: int | None
    fps: Fraction | None
    video_kbps: int | None
    maxrate_kbps: int | None
    bufsize_kbps: int | None
    level: str | None         # H.264 level, e.g. "3.1"
    audio_kbps: int | None    # None when the source has no audio

    @property
    def nominal_bandwidth(self):
        """Bits per second promised before measuring: video peak plus audio."""
        return ((self.maxrate_kbps or 0) + (self.audio_kbps or 0)) * 1000


def plan(probe, ladder=LADDER, max_renditions=MAX_RENDITIONS):
    """Renditions from the source's size down, never upscaled, largest first."""
    audio = AUDIO_KBPS if probe.has_audio else None
    if not probe.has_video:
        return [_audio_rendition(audio)]
    src_w, src_h = probe.display_size
    fps = output_fps(probe.fps)
    fitted = [(rung, fit(src_w, src_h, rung.height)) for rung in ladder]
    chosen = []
    for rung, size in fitted:
        if size[0] * size[1] * 2 < _box_area(rung.height):
            continue  # the source fills less than half of this rung's box: not worth a rendition
        if chosen and chosen[-1][1] == size:
            chosen.pop()  # same picture as the rung above: keep the lower rung's name and rate
        chosen.append((rung, size))
    if not chosen:  # a tiny or extreme-aspect source: the smallest box that holds it unscaled
        unscaled = [(r, size) for r, size in fitted if size == fit(src_w, src_h, None)]
        chosen = [unscaled[-1] if unscaled else fitted[0]]
    return [_rendition(r, w, h, fps, audio) for r, (w, h) in chosen[:max_renditions]]


def shared_audio(renditions):
    """The audio rendition the video renditions of a plan share (an EXT-X-MEDIA group), or None
    when the source has no sound or no picture (an audio-only plan is its own single rendition)."""
    top = renditions[0]
    return _audio_rendition(top.audio_kbps) if top.width is not None and top.audio_kbps else None


def fit(src_w, src_h, box_height):
    """Even (width, height) of the source scaled into a rung's box (None: no box), never up."""
    scale = 1.0
    if box_height is not None:
        long_side, short_side = box_height * 16 / 9, box_height
        box_w, box_h = (long_side, short_side) if src_w >= src_h else (short_side, long_side)
        scale = min(1.0, box_w / src_w, box_h / src_h)
    # Nearest even size keeps the aspect ratio; never past the source's own (even) size.
    return (min(_even(src_w * scale), max(2, src_w // 2 * 2)),
            min(_even(src_h * scale), max(2, src_h // 2 * 2)))


def output_fps(fps):
    """A constant rate for the output: the source's, snapped to a standard rate, at most 60."""
    if not fps or fps <= 0:
        return Fraction(30)
    fps = Fraction(fps)
    while fps > 60:
        fps /= 2
    nearest = min(STANDARD_RATES, key=lambda standard: abs(fps - standard))
    if abs(fps - nearest) / nearest < 0.01:  # VFR phones average 29.9x: call it 30
        return nearest
    return fps.limit_denominator(1001)


def h264_level(width, height, fps, maxrate_kbps):
    macroblocks = -(-width // 16) * -(-height // 16)
    for name, max_fs, max_mbps, max_br in LEVELS:
        if macroblocks <= max_fs and macroblocks * fps <= max_mbps and maxrate_kbps <= max_br * 1.25:
            return name
    raise ValueError(f"{width}x{height}@{float(fps):g} exceeds H.264 level 4.2")


def _rendition(rung, width, height, fps, audio):
    share = max(0.25, min(1.0, width * height / _box_area(rung.height)))
    boost = HIGH_FPS_FACTOR if fps > 31 else 1.0
    kbps, maxrate, bufsize = (_round10(v * share * boost) for v in
                              (rung.video_kbps, rung.maxrate_kbps, rung.bufsize_kbps))
    return Rendition(rung.name, width, height, fps, kbps, maxrate, bufsize,
                     h264_level(width, height, fps, maxrate), audio)


def _audio_rendition(kbps):
    return Rendition(SHARED_AUDIO, None, None, None, None, None, None, None, kbps)


def _box_area(height):
    return _even(height * 16 / 9) * height


def _even(value):
    return max(2, int(round(value / 2)) * 2)


def _round10(value):
    return int(round(value / 10)) * 10
