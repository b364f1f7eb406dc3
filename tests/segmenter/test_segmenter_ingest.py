"""Hostile and broken uploads: each refused with a typed, readable error, nothing read or left."""
import subprocess
import wave

import pytest

from segmenter import ProbeError, RejectedInput, package
from segmenter import formats
from segmenter.config import ffmpeg_binary
from segmenter.probe import Limits, probe
from tests.clips import make_clip
from tests.segmenter.playlists import hls_playlist


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("ingest") / "clip.mp4", seconds=2, width=320,
                     height=240)


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf\n  "])
def test_hls_playlist_named_mp4_is_refused_without_following_it(tmp_path, canary, prefix):
    url, hits = canary
    playlist = hls_playlist(tmp_path, url, prefix=prefix)
    with pytest.raises(RejectedInput) as refused:
        package(playlist, tmp_path / "out")
    assert refused.value.status == 415 and "HLS playlist" in refused.value.reason
    assert hits == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["video.mp4", "video.m3u8"])
def test_format_whitelist_alone_keeps_the_hls_demuxer_out(tmp_path, canary, monkeypatch, name):
    """Even without the text sniff, the format whitelist never lets a playlist be followed
    (FFmpeg's hls demuxer would open a `.m3u8` with only the protocol whitelist in place)."""
    url, hits = canary
    monkeypatch.setattr(formats, "check_head", lambda head: None)
    with pytest.raises(ProbeError):
        probe(hls_playlist(tmp_path, url, name=name))
    assert hits == []


def test_concat_script_is_refused(tmp_path):
    script = tmp_path / "movie.mkv"
    script.write_text("ffconcat version 1.0\nfile /etc/passwd\n")
    with pytest.raises(RejectedInput) as refused:
        probe(script)
    assert refused.value.status == 415 and "concat" in refused.value.reason


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"hello, this is not a video\n" * 10, "text"),
    (b"\x00\x01\x02\x03garbage" * 100, "not a readable video"),
])
def test_empty_text_and_garbage_are_probe_errors(tmp_path, content, reason):
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    with pytest.raises(ProbeError) as failed:
        package(path, tmp_path / "out")
    assert reason in str(failed.value) and failed.value.status == 422
    assert not (tmp_path / "out").exists()


def test_truncated_mp4_is_a_probe_error(tmp_path, clip):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(ProbeError):
        probe(truncated)


def test_missing_file_is_a_probe_error(tmp_path):
    with pytest.raises(ProbeError):
        probe(tmp_path / "nothing-here.mp4")


def test_wav_is_an_unsupported_format(tmp_path):
    path = tmp_path / "sound.mp4"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    with pytest.raises(RejectedInput) as refused:
        probe(path)
    assert refused.value.status == 415 and "WAV" in refused.value.reason


def test_allowed_container_with_a_codec_not_allowed(tmp_path):
    path = tmp_path / "png.mkv"
    subprocess.run([ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x64:rate=5:duration=1", "-c:v", "png", str(path)], check=True)
    with pytest.raises(RejectedInput) as refused:
        probe(path)
    assert refused.value.status == 415 and "video codec: png" in refused.value.reason


@pytest.mark.parametrize("limits, words", [
    (Limits(max_size=1000), "larger than"),
    (Limits(max_side=300), "320x240"),
    (Limits(max_pixels=320 * 200), "320x240"),
    (Limits(max_duration=1.0), "longer than"),
])
def test_limits_are_413(clip, limits, words):
    with pytest.raises(RejectedInput) as refused:
        probe(clip, limits)
    assert refused.value.status == 413 and words in refused.value.reason


def test_a_good_clip_is_described(clip):
    info = probe(clip)
    assert (info.format_name, info.width, info.height, info.rotation) == ("mov", 320, 240, 0)
    assert (info.video_codec, info.audio_codec, float(info.fps)) == ("h264", "aac", 25.0)
    assert abs(info.duration - 2.0) < 0.1 and info.size == clip.stat().st_size
