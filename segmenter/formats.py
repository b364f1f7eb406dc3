"""What an upload may be: container and codec allowlists, and a sniff that names what it is not.

Everything not listed here is refused before a decoder runs. The lists are short on purpose: each
demuxer and decoder accepted is attack surface on a volunteer's machine.
"""
from .errors import ProbeError, RejectedInput

# FFmpeg demuxer (first of its comma-separated names) -> what a person calls it. None of these
# opens other files or URLs by itself (the mov demuxer's external references stay off by default).
CONTAINERS = {
    "mov": "MP4/QuickTime",
    "matroska": "Matroska/WebM",
    "avi": "AVI",
    "mpegts": "MPEG-TS",
    "ogg": "Ogg",
    "flv": "FLV",
}

# Codec name -> the FFmpeg decoders that may decode it (external libraries where FFmpeg prefers them).
VIDEO_CODECS = {
    "h264": ("h264",),
    "hevc": ("hevc",),
    "vp8": ("vp8", "libvpx"),
    "vp9": ("vp9", "libvpx-vp9"),
    "av1": ("libdav1d", "libaom-av1", "av1"),
    "mpeg4": ("mpeg4",),
    "mpeg2video": ("mpeg2video",),
    "mpeg1video": ("mpeg1video",),
    "theora": ("theora",),
    "h263": ("h263",),
    "flv1": ("flv",),
    "mjpeg": ("mjpeg",),
    "prores": ("prores",),
}
AUDIO_CODECS = {
    "aac": ("aac", "aac_fixed"),
    "mp3": ("mp3float", "mp3"),
    "mp2": ("mp2float", "mp2"),
    "opus": ("opus", "libopus"),
    "vorbis": ("vorbis", "libvorbis"),
    "flac": ("flac",),
    "alac": ("alac",),
    "ac3": ("ac3", "ac3_fixed"),
    "eac3": ("eac3",),
    "pcm_s16le": ("pcm_s16le",),
    "pcm_s16be": ("pcm_s16be",),
    "pcm_s24le": ("pcm_s24le",),
    "pcm_f32le": ("pcm_f32le",),
}

FORMAT_WHITELIST = ",".join(CONTAINERS)
CODEC_WHITELIST = ",".join(d for table in (VIDEO_CODECS, AUDIO_CODECS) for ds in table.values() for d in ds)


def decoders(*codecs):
    """The comma-separated decoder whitelist for the given codec names (None skipped)."""
    names = [d for c in codecs if c for d in {**VIDEO_CODECS, **AUDIO_CODECS}[c]]
    return ",".join(names)


# Leading bytes of things people (or attackers) upload that are not acceptable containers, so the
# refusal can say what the file is. Checked only when the allowlisted demuxers all refuse it.
_SIGNATURES = (
    (b"ID3", "an MP3 file"),
    (b"fLaC", "a FLAC file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x30\x26\xb2\x75", "an ASF/WMV file"),
    (b".RMF", "a RealMedia file"),
    (b"\x00\x00\x01\xba", "an MPEG program stream"),
)
# Text formats FFmpeg would follow to other files or URLs: refused whatever the file is named.
_TEXT_FORMATS = (
    ("#EXTM3U", "an HLS playlist"),
    ("ffconcat", "an FFmpeg concat script"),
    ("<?xml", "an XML document (e.g. a DASH manifest)"),
    ("<MPD", "a DASH manifest"),
    ("[playlist]", "a playlist"),
)


def check_head(head):
    """Refuse, before any demuxer sees it, an empty file or a text format FFmpeg would follow.

    `head` is the first few KiB of the file. The format whitelist already keeps FFmpeg's playlist
    demuxers away; this names the file for the person and holds even if that whitelist were lost.
    """
    if not head:
        raise ProbeError("the file is empty")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").decode("utf-8", "replace")
    for marker, what in _TEXT_FORMATS:
        if text.startswith(marker):
            raise RejectedInput(f"unsupported format: {what}, not a video", 415)


def explain_refusal(head):
    """Raise the most readable error for a file that no allowlisted demuxer could open.

    Known non-video formats are 415 (unsupported); anything else is a ProbeError (422).
    """
    check_head(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        raise RejectedInput("unsupported format: a WAV file; upload a video file", 415)
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise RejectedInput(f"unsupported format: {what}; upload a video file", 415)
    if b"\x00" not in head:
        raise ProbeError("the file is text, not a video")
    raise ProbeError("not a readable video file (unknown format, corrupt or truncated)")
