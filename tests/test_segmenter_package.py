"""Real packaging runs on tiny generated clips, checked with PyAV and the m3u8 parser."""
import io
import os
import subprocess
import sys

import av
import m3u8
import pytest

from segmenter import EncodeError, package
from segmenter.command import ffmpeg_binary
from segmenter.manifest import MANIFEST_NAME, load_manifest, verify_dir
from tests.clips import make_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("segmenter-clips")
    made = {
        "720p": make_clip(root / "720p.mp4", seconds=6, width=1280, height=720),
        "silent": make_clip(root / "silent.mp4", seconds=3, width=640, height=360, audio=False),
        "audio": make_clip(root / "audio.m4a", seconds=3, video=False),
    }
    made["rotated"] = root / "rotated.mp4"
    subprocess.run([ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-display_rotation", "90",
                    "-i", str(made["silent"]), "-c", "copy", str(made["rotated"])], check=True)
    return made


@pytest.fixture(scope="module")
def packaged(clips, tmp_path_factory):
    """Each clip packaged once: name -> (folder, video id, manifest, progress reports)."""
    results = {}
    for name, clip in clips.items():
        outdir = tmp_path_factory.mktemp("pkg") / name
        reports = []
        vid, manifest = package(clip, outdir, on_progress=reports.append)
        results[name] = (outdir, vid, manifest, reports)
    return results


def master_of(outdir):
    return m3u8.load(str(outdir / "master.m3u8"))


def rendition_bytes(outdir, playlist):
    """A rendition's init segment plus all its media segments, as one fMP4 stream."""
    media = m3u8.load(str(outdir / playlist))
    parts = [media.segment_map[0].uri] + [s.uri for s in media.segments]
    return b"".join((outdir / part).read_bytes() for part in parts)


def test_720p_clip_gives_a_ladder_listed_by_the_master_playlist(packaged):
    outdir, vid, manifest, _ = packaged["720p"]
    master = master_of(outdir)
    assert master.is_variant and master.is_independent_segments
    assert len(master.playlists) >= 2
    assert [v.uri for v in master.playlists] == [r["playlist"] for r in manifest["renditions"]]
    top = master.playlists[0].stream_info
    assert top.resolution == (1280, 720) and top.frame_rate == 25.0
    for variant, rendition in zip(master.playlists, manifest["renditions"]):
        info = variant.stream_info
        assert info.bandwidth == rendition["bandwidth"] >= info.average_bandwidth > 0
        assert info.resolution == (rendition["width"], rendition["height"])
        assert info.codecs.startswith("avc1.64") and info.codecs.endswith(",mp4a.40.2")


def test_every_file_is_in_the_manifest_and_hashes_right(packaged):
    for outdir, vid, manifest, _ in packaged.values():
        assert verify_dir(outdir, vid) == []
        assert load_manifest(outdir, vid) == manifest
        assert set(manifest["files"]) == set(os.listdir(outdir)) - {MANIFEST_NAME}
        assert manifest["poster"] == "poster.jpg" and "master.m3u8" in manifest["files"]


def test_segments_are_fmp4_of_about_four_seconds(packaged):
    outdir, _, manifest, _ = packaged["720p"]
    for rendition in manifest["renditions"]:
        media = m3u8.load(str(outdir / rendition["playlist"]))
        assert media.playlist_type == "vod" and media.is_endlist
        durations = [s.duration for s in media.segments]
        assert all(abs(d - 4.0) < 0.05 for d in durations[:-1]) and durations[-1] <= 4.05
        assert abs(sum(durations) - 6.0) < 0.1
        init = (outdir / media.segment_map[0].uri).read_bytes()
        assert init[4:8] == b"ftyp" and b"moov" in init
        for segment in media.segments:
            assert (outdir / segment.uri).read_bytes()[4:8] in (b"moof", b"styp")


def test_keyframes_every_two_seconds_aligned_across_renditions(packaged):
    outdir, _, manifest, _ = packaged["720p"]
    keyframe_times = []
    for rendition in manifest["renditions"]:
        with av.open(io.BytesIO(rendition_bytes(outdir, rendition["playlist"]))) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (
                rendition["width"], rendition["height"])
            keyframe_times.append([round(float(p.pts * p.time_base), 2)
                                   for p in container.demux(stream) if p.is_keyframe])
    first = keyframe_times[0][0]  # B-frames delay the first presentation time a little
    assert [round(t - first, 2) for t in keyframe_times[0]] == [0.0, 2.0, 4.0]
    assert all(times == keyframe_times[0] for times in keyframe_times)


def test_codecs_attribute_matches_the_encoded_streams(packaged):
    outdir, _, _, _ = packaged["720p"]
    for variant in master_of(outdir).playlists:
        with av.open(io.BytesIO(rendition_bytes(outdir, variant.uri))) as container:
            video = container.streams.video[0].codec_context
            audio = container.streams.audio[0].codec_context
            assert video.profile == "High" and video.pix_fmt == "yuv420p"
            level = int(variant.stream_info.codecs.split(",")[0][-2:], 16)
            assert level == video.level <= 42
            assert (audio.name, audio.sample_rate, audio.channels) == ("aac", 48000, 2)


def test_progress_rises_to_one(packaged):
    reports = packaged["720p"][3]
    fractions = [r["progress"] for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) >= 3


def test_clip_without_audio_packages_video_only(packaged):
    outdir, _, manifest, _ = packaged["silent"]
    assert [r["name"] for r in manifest["renditions"]] == ["360p", "240p"]
    assert all("mp4a" not in v.stream_info.codecs for v in master_of(outdir).playlists)
    with av.open(io.BytesIO(rendition_bytes(outdir, "360p.m3u8"))) as container:
        assert len(container.streams.audio) == 0


def test_rotated_clip_comes_out_upright_in_portrait(packaged):
    outdir, _, manifest, _ = packaged["rotated"]
    assert [(r["width"], r["height"]) for r in manifest["renditions"]] == [(360, 640), (240, 426)]
    with av.open(io.BytesIO(rendition_bytes(outdir, "360p.m3u8"))) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height, frame.rotation) == (360, 640, 0)
    with av.open(str(outdir / "poster.jpg")) as poster:
        assert next(poster.decode(video=0)).height == 640


def test_audio_only_clip_gets_an_audio_rendition_and_a_poster(packaged):
    outdir, _, manifest, _ = packaged["audio"]
    assert manifest["renditions"] == [{"name": "audio", "width": None, "height": None,
                                       "bandwidth": manifest["renditions"][0]["bandwidth"],
                                       "playlist": "audio.m3u8"}]
    (variant,) = master_of(outdir).playlists
    assert variant.stream_info.codecs == "mp4a.40.2" and variant.stream_info.resolution is None
    assert (outdir / "poster.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_failed_encode_leaves_nothing_behind(clips, tmp_path, monkeypatch):
    monkeypatch.setenv("FFMPEG_BINARY", "/bin/false")
    with pytest.raises(EncodeError) as failure:
        package(clips["silent"], tmp_path / "out")
    assert failure.value.cmd[0] == "/bin/false"
    assert not (tmp_path / "out").exists()
    (tmp_path / "existing").mkdir()
    with pytest.raises(EncodeError):
        package(clips["silent"], tmp_path / "existing")
    assert os.listdir(tmp_path / "existing") == []


def test_cli_packages_and_verifies(clips, tmp_path):
    cli = [sys.executable, "-m", "segmenter"]
    done = subprocess.run(cli + [str(clips["audio"]), str(tmp_path / "pkg")], capture_output=True,
                          text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    vid = done.stdout.strip()
    assert "100%" in done.stderr and len(vid) == 40
    check = subprocess.run(cli + ["verify", str(tmp_path / "pkg"), vid], capture_output=True,
                           text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert (check.returncode, check.stdout.strip()) == (0, f"ok {vid}")
    segment = tmp_path / "pkg" / "audio_00000.m4s"
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0x01
    segment.write_bytes(bytes(data))
    check = subprocess.run(cli + ["verify", str(tmp_path / "pkg")], capture_output=True,
                           text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert check.returncode == 1 and "audio_00000.m4s" in check.stderr
