"""Look at an upload with PyAV, safely, and decide whether it may be transcoded at all."""
import os
from dataclasses import dataclass
from fractions import Fraction

from . import formats
from .errors import ProbeError, RejectedInput

HEAD_BYTES = 4096
PROBE_SECONDS = 30.0  # PyAV's interrupt callback ends an open or read that takes longer


@dataclass(frozen=True)
class Limits:
    """What an edge accepts. Exceeding a size limit is 413; nonsense values are 422."""

    max_size: int = 8 << 30
    max_duration: float = 4 * 3600.0
    max_side: int = 4096
    max_pixels: int = 4096 * 2304
    min_side: int = 16
    max_fps: float = 240.0
    max_streams: int = 16


LIMITS = Limits()


@dataclass(frozen=True)
class Probe:
    format_name: str          # the demuxer to pin with -f, e.g. "mov"
    duration: float           # seconds
    width: int                # coded size, before rotation and sample aspect ratio
    height: int
    fps: Fraction | None      # average frame rate of the video stream
    rotation: int             # degrees counter-clockwise the player must rotate (0/90/180/270)
    has_video: bool
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None
    size: int                 # bytes
    video_index: int | None = None
    audio_index: int | None = None
    sample_aspect: Fraction = Fraction(1)

    @property
    def display_size(self):
        """(width, height) as shown: sample aspect ratio applied, then rotation."""
        width = round(self.width * self.sample_aspect) if self.sample_aspect > 0 else self.width
        if self.rotation % 180 == 90:
            return self.height, width
        return width, self.height


def probe(path, limits=LIMITS):
    """Describe `path`, or raise ProbeError / RejectedInput with a reason a person can read."""
    import av  # deferred: importing the package stays light

    try:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise ProbeError(f"cannot read the file: {exc.strerror}") from exc
    if size > limits.max_size:
        raise RejectedInput(f"file is larger than the {limits.max_size >> 20} MiB limit", 413)
    formats.check_head(head)
    options = {
        "protocol_whitelist": "file",               # never a network or pipe protocol
        "format_whitelist": formats.FORMAT_WHITELIST,  # no playlist/pseudo demuxer, also nested
        "codec_whitelist": formats.CODEC_WHITELIST,    # stream-info probing opens no other decoder
        "max_streams": str(limits.max_streams * 4),    # bound what the demuxer allocates
    }
    try:
        container = av.open("file:" + os.path.abspath(path), container_options=options,
                            # Stream-info probing decodes frames: a crafted 16000x9000 SPS must not
                            # make this process allocate frames before _video_fields caps it.
                            options={"max_pixels": str(limits.max_pixels)},
                            timeout=PROBE_SECONDS)
    except av.FFmpegError:
        formats.explain_refusal(head)
        raise  # explain_refusal always raises; kept for readers
    with container:
        return _describe(container, size, limits)


def _describe(container, size, limits):
    name = container.format.name.split(",")[0]
    if name not in formats.CONTAINERS:
        raise RejectedInput(f"unsupported container format: {name}", 415)
    if len(container.streams) > limits.max_streams:
        raise RejectedInput(f"too many streams ({len(container.streams)})", 422)
    video = _pick(container.streams.video, formats.VIDEO_CODECS, "video")
    audio = _pick(container.streams.audio, formats.AUDIO_CODECS, "audio")
    if video is None and audio is None:
        raise RejectedInput("the file has no audio or video stream", 422)
    duration = (container.duration or 0) / 1_000_000
    if not 0 < duration:
        raise ProbeError("the file's duration is unknown or zero")
    if duration > limits.max_duration:
        raise RejectedInput(f"longer than the {limits.max_duration / 3600:g} h limit", 413)
    fields = dict(format_name=name, duration=duration, size=size, width=0, height=0, fps=None,
                  rotation=0, has_video=video is not None, has_audio=audio is not None,
                  video_codec=None, audio_codec=None)
    if audio is not None:
        fields.update(audio_codec=audio.codec_context.codec.canonical_name, audio_index=audio.index)
    if video is not None:
        fields.update(_video_fields(container, video, limits))
    return Probe(**fields)


def _pick(streams, allowed, kind):
    """The first real stream of a kind (cover art is not video); refuse a codec not allowed."""
    streams = [s for s in streams if not s.disposition & s.disposition.attached_pic]
    if not streams:
        return None
    stream = streams[0]
    codec = stream.codec_context.codec.canonical_name if stream.codec_context else "unknown"
    if codec not in allowed:
        raise RejectedInput(f"unsupported {kind} codec: {codec}", 415)
    return stream


def _video_fields(container, stream, limits):
    import av

    width, height = stream.codec_context.width, stream.codec_context.height
    if min(width, height) < limits.min_side:
        raise RejectedInput(f"video size {width}x{height} is not a valid picture size", 422)
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise RejectedInput(f"video size {width}x{height} is above the {limits.max_side} px limit", 413)
    fps = stream.average_rate or stream.guessed_rate
    fps = Fraction(fps) if fps else None
    if fps is not None and not 0 < fps <= limits.max_fps:
        raise RejectedInput(f"frame rate {float(fps):g} is not plausible", 422)
    sar = stream.sample_aspect_ratio
    sar = Fraction(sar) if sar and 0.25 <= sar <= 4 else Fraction(1)
    # The display matrix reaches PyAV only on decoded frames: decode one, now that it is vetted.
    try:
        frame = next(container.decode(stream), None)
    except av.FFmpegError as exc:
        raise ProbeError(f"the video stream cannot be decoded ({exc.strerror})") from exc
    if frame is None:
        raise ProbeError("the video stream has no frames")
    return dict(width=width, height=height, fps=fps, rotation=int(frame.rotation or 0) % 360,
                video_codec=stream.codec_context.codec.canonical_name, video_index=stream.index,
                sample_aspect=sar)
