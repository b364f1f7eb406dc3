"""The ffmpeg command lines, built as argument lists by pure functions (ffmpeg-python, no shell).

Output names are relative: the runner starts ffmpeg inside the package folder, so no path of ours
reaches ffmpeg's `%` patterns and every file lands flat in that folder.
"""
import os

import ffmpeg

from . import formats, ladder, master, pictures
from .pictures import POSTER
from .probe import LIMITS

SEGMENT_SECONDS = 4   # README.md, HLS package: fMP4 segments of about 4 s
KEYFRAME_SECONDS = 2  # keyframes every 2 s, so a segment holds two GOPs and cuts stay aligned
POSTER_AUDIO_SECONDS = 120  # an audio-only poster draws the waveform of at most this much

GLOBAL_ARGS = (
    "-hide_banner",
    "-nostdin",            # never read the terminal: a job must not block or take keystrokes
    "-loglevel", "warning",
    "-nostats",            # progress comes from -progress, not the stderr status line
    "-progress", "pipe:1",  # key=value blocks on stdout, parsed by runner.parse_progress
)


def source(probe, path, **options):
    """The upload as an ffmpeg input, locked down to what the probe saw."""
    return ffmpeg.input(
        "file:" + os.path.abspath(path),  # an explicit protocol: no name is read as a URL or option
        f=probe.format_name,              # pin the probed demuxer: no second guess of the format
        protocol_whitelist="file",        # nothing but this local file may be opened
        format_whitelist=probe.format_name,  # nested demuxers (AVI GAB2 subtitles) are refused too
        codec_whitelist=formats.decoders(probe.video_codec, probe.audio_codec),
        # A mid-stream SPS cannot grow the picture past the pixel limit the probe applied.
        max_pixels=LIMITS.max_pixels,
        **options,
    )


def encode_args(probe, renditions, path, sheet=None, poster=False):
    """One process: decode once, scale each rendition from the next larger one, write every HLS
    variant and one audio rendition they share; with `poster` the poster JPEG and with a `sheet`
    (thumbnails.Sheet) the seek-bar sprite, both from the same decoded frames."""
    src = source(probe, path)
    audio = src[str(probe.audio_index)] if probe.has_audio else None
    variants = len(renditions) + (audio is not None and renditions[0].width is not None)
    options = {**_hls_options(renditions[0].name, variants),
               **(_audio_options(renditions[0]) if audio else {})}
    if renditions[0].width is None:  # audio-only source: one audio-only variant
        return ffmpeg.output(audio, "%v.m3u8", var_stream_map=f"a:0,name:{renditions[0].name}",
                             **options).global_args(*GLOBAL_ARGS).get_args()
    # A constant frame rate (VFR made CFR) before any split, so every output gets the same frames.
    picture = src[str(probe.video_index)].filter("fps", str(renditions[0].fps))
    outputs, streams, groups = [], [], []
    if sheet is not None:
        picture = picture.filter_multi_output("split", 2)
        outputs.append(pictures.sprite_output(picture.stream(1), sheet))
        picture = picture.stream(0)
    options.update(_video_options())
    for i, rendition in enumerate(renditions):
        # Each rendition is scaled from the one above it, not from the source: a smaller input
        # halves the scaling work of the ladder; SSIM drops by at most 0.0014 (bench/segmenter.py).
        # Rotation is already applied (ffmpeg autorotates); square pixels from here on.
        picture = picture.filter("scale", rendition.width, rendition.height).filter("setsar", 1)
        uses = ["encode"] + (["next"] if i + 1 < len(renditions) else []) \
            + (["poster"] if i == 0 and poster else [])
        branch = dict(zip(uses, _split(picture, len(uses))))
        if "poster" in branch:
            outputs.append(pictures.poster_output(branch["poster"], min(probe.duration / 4, 5.0)))
        streams.append(branch["encode"].filter("format", "yuv420p"))  # 8-bit 4:2:0 for High
        picture = branch.get("next")
        options.update(_rate_options(i, rendition))
        options[f"threads:v:{i}"] = encoder_threads(i)
        groups.append(f"v:{i},agroup:{master.AUDIO_GROUP},name:{rendition.name}" if audio
                      else f"v:{i},name:{rendition.name}")
    if audio is not None:
        # One audio rendition that every variant plays (EXT-X-MEDIA, RFC 8216 4.3.4.1): encoded
        # once instead of once per variant; master.write_master declares the group.
        streams.append(audio)
        groups.append(f"a:0,agroup:{master.AUDIO_GROUP},name:{ladder.SHARED_AUDIO}")
    outputs.insert(0, ffmpeg.output(*streams, "%v.m3u8", var_stream_map=" ".join(groups), **options))
    return ffmpeg.merge_outputs(*outputs).global_args(*GLOBAL_ARGS).get_args()


def _split(stream, count):
    if count == 1:
        return [stream]
    split = stream.filter_multi_output("split", count)
    return [split.stream(i) for i in range(count)]


def _hls_options(first, variants):
    # With a single variant ffmpeg does not expand %v in the init segment's name.
    init = "%v_init.mp4" if variants > 1 else f"{first}_init.mp4"
    return {
        "f": "hls",
        "hls_time": SEGMENT_SECONDS,        # cut at the first keyframe after 4 s
        "hls_playlist_type": "vod",         # RFC 8216 4.3.3.5: complete, immutable playlists
        "hls_segment_type": "fmp4",         # CMAF fragments (EXT-X-MAP, RFC 8216 3.3)
        "hls_fmp4_init_filename": init,
        "hls_segment_filename": "%v_%05d.m4s",
        "hls_flags": "independent_segments",  # every segment starts on an IDR (RFC 8216 4.3.5.1)
        "map_metadata": -1,                 # drop source tags (phones write GPS position there)
        "map_chapters": -1,
    }


def _video_options():
    return {
        "c:v": "libx264",
        "preset": "veryfast",
        "profile:v": "high",
        # IDR frames at exactly 0, 2, 4... s in every rendition, so players switch on any segment.
        "force_key_frames": f"expr:gte(t,n_forced*{KEYFRAME_SECONDS})",
        "sc_threshold": 0,  # no extra scene-cut keyframes that would differ between renditions
    }


def encoder_threads(i):
    """x264's threads for rendition `i` (0 the largest). Its default, 1.5 threads a core per encoder,
    oversubscribes the cores several times over when every rendition encodes at once. The largest
    rendition is over half the work and finishes last, so it gets a thread a core, to use every core
    once the others are done; each smaller one a single thread, which spends the least CPU per frame.
    bench/segmenter.py, 60 s 1080p ladder on 2 cores: 0.895 of the hand-written command's wall time,
    against 0.927 with a thread a core for every rendition and 1.00 with one thread for each."""
    return (os.cpu_count() or 1) if i == 0 else 1


def _rate_options(i, rendition):
    return {
        f"b:v:{i}": f"{rendition.video_kbps}k",
        f"maxrate:v:{i}": f"{rendition.maxrate_kbps}k",  # VBV: caps the peak segment bit rate
        f"bufsize:v:{i}": f"{rendition.bufsize_kbps}k",
        f"level:v:{i}": rendition.level,  # declared in the SPS; at most 4.2 (ladder.h264_level)
    }


def _audio_options(rendition):
    return {
        "c:a": "aac",
        "profile:a": "aac_low",  # AAC-LC, which master.py declares as mp4a.40.2
        "b:a": f"{rendition.audio_kbps}k",
        "ac": 2,                 # stereo: a 5.1 source is downmixed
        "ar": 48000,
    }


def waveform_args(probe, path):
    """The poster of an audio-only source: the waveform of its start, as a JPEG."""
    src = source(probe, path, t=POSTER_AUDIO_SECONDS)  # read only the start of the upload
    picture = src[str(probe.audio_index)].filter("showwavespic", s="1280x720", colors="0x8ab4f8")
    options = pictures.image_options(1, pictures.POSTER_QUALITY)
    return picture.output(POSTER, **options).global_args(*GLOBAL_ARGS).get_args()
