"""The master playlist, written from what ffmpeg actually produced (RFC 8216 section 4.3.4).

BANDWIDTH is the measured peak segment bit rate, AVERAGE-BANDWIDTH the measured average, CODECS
the profile and level read from each init segment's avcC box, so players choose and switch right.
"""
import dataclasses
import os
from dataclasses import dataclass

from . import ladder
from .errors import EncodeError

MASTER = "master.m3u8"
AUDIO_GROUP = "audio"  # the EXT-X-MEDIA GROUP-ID of the shared audio rendition (command.py)
AAC_LC = "mp4a.40.2"  # AAC object type 2 (LC): what command._audio_options asks the encoder for


@dataclass(frozen=True)
class Variant:
    rendition: object  # ladder.Rendition
    playlist: str
    bandwidth: int     # bits/s, peak
    average: int       # bits/s
    codecs: str
    seconds: float     # sum of the segment durations: how much of the source was read


def read_playlist(path):
    """(init segment name, [(segment name, seconds)], target duration) of a media playlist."""
    init, segments, target, seconds = None, [], None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#EXT-X-MAP:URI="):
                init = line.split("=", 1)[1].split(",")[0].strip('"')
            elif line.startswith("#EXT-X-TARGETDURATION:"):
                target = float(line.split(":", 1)[1])
            elif line.startswith("#EXTINF:"):
                seconds = float(line.split(":", 1)[1].split(",")[0])
            elif line and not line.startswith("#") and seconds is not None:
                segments.append((line, seconds))
                seconds = None
    return init, segments, target


def bit_rates(sizes_and_seconds, target):
    """(peak, average) bits/s. Peak per RFC 8216 4.3.4.2: the highest rate of any contiguous run
    of segments lasting 0.5 to 1.5 times the target duration."""
    total_bytes = sum(size for size, _ in sizes_and_seconds)
    total_seconds = sum(seconds for _, seconds in sizes_and_seconds)
    average = total_bytes * 8 / total_seconds if total_seconds else 0
    peak = 0.0
    for start in range(len(sizes_and_seconds)):
        run_bytes = run_seconds = 0
        for size, seconds in sizes_and_seconds[start:]:
            run_bytes, run_seconds = run_bytes + size, run_seconds + seconds
            if run_seconds > 1.5 * target:
                break
            if run_seconds >= 0.5 * target:
                peak = max(peak, run_bytes * 8 / run_seconds)
    return int(round(max(peak, average))), int(round(average))


def avc_codec(init_bytes):
    """RFC 6381 `avc1.PPCCLL` from the avcC box: profile, constraint flags, level."""
    at = init_bytes.find(b"avcC")
    if at < 0 or len(init_bytes) < at + 8:
        raise EncodeError("init segment has no avcC box")
    return "avc1." + init_bytes[at + 5:at + 8].hex()


def measure(directory, rendition):
    playlist = f"{rendition.name}.m3u8"
    init, segments, target = read_playlist(os.path.join(directory, playlist))
    if not segments or init is None or target is None:
        raise EncodeError(f"{playlist} lists no segments")
    sizes = [(os.path.getsize(os.path.join(directory, name)), seconds) for name, seconds in segments]
    peak, average = bit_rates(sizes, target)
    codecs = [] if rendition.width is None else [avc_codec(_read(directory, init))]
    if rendition.audio_kbps:
        codecs.append(AAC_LC)
    return Variant(rendition, playlist, peak, average, ",".join(codecs),
                   sum(seconds for _, seconds in segments))


def write_master(directory, renditions):
    """Measure every rendition, write master.m3u8, and return the variants, largest first; a
    variant's bandwidth counts the shared audio rendition it plays with (RFC 8216 4.3.4.2)."""
    variants = [measure(directory, r) for r in renditions]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7",
             "#EXT-X-INDEPENDENT-SEGMENTS"]  # every segment starts with an IDR (RFC 8216 4.3.5.1)
    shared = ladder.shared_audio(renditions)
    if shared is not None:
        audio = measure(directory, shared)
        lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="{shared.name}",'
                     f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="{audio.playlist}"')
        variants = [dataclasses.replace(v, bandwidth=v.bandwidth + audio.bandwidth,
                                        average=v.average + audio.average) for v in variants]
    for v in variants:
        attributes = [f"BANDWIDTH={v.bandwidth}", f"AVERAGE-BANDWIDTH={v.average}",
                      f'CODECS="{v.codecs}"']
        if v.rendition.width is not None:
            attributes += [f"RESOLUTION={v.rendition.width}x{v.rendition.height}",
                           f"FRAME-RATE={float(v.rendition.fps):.3f}"]
        if shared is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), v.playlist]
    with open(os.path.join(directory, MASTER), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return variants


def _read(directory, name):
    with open(os.path.join(directory, name), "rb") as f:
        return f.read()
