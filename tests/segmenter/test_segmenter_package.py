"""Real packaging runs on tiny generated clips, checked with PyAV and the m3u8 parser."""
import io
import os
import re
import subprocess
import sys

import av
import m3u8
import pytest

from segmenter import EncodeError, command, ladder, package, thumbnails
from segmenter.config import ffmpeg_binary
from protocol.manifest import MANIFEST_NAME, load_manifest, verify_dir
from segmenter.probe import probe
from segmenter.runner import run
from tests.clips import make_clip
from tests.servers import ROOT


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
    lavfi = [ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i"]
    made["vfr"] = root / "vfr.mp4"  # frames alternately 21 and 45 ms apart, as phones jitter
    subprocess.run(lavfi + ["testsrc2=size=320x240:rate=30:duration=4", "-vf",
                            "settb=1/1000,setpts=(N/30+0.012*mod(N\\,2))/TB",
                            "-fps_mode", "passthrough", "-enc_time_base", "filter",
                            "-video_track_timescale", "1000", "-c:v", "libx264",
                            "-preset", "ultrafast", str(made["vfr"])], check=True)
    made["odd"] = root / "odd.mp4"  # 4:4:4 lets H.264 carry an odd size
    subprocess.run(lavfi + ["testsrc2=size=320x240:rate=25:duration=3", "-f", "lavfi", "-i",
                            "sine=duration=3", "-vf", "scale=321:241,format=yuv444p",
                            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                            str(made["odd"])], check=True)
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
    master = master_of(outdir)
    (track,) = master.media  # one audio rendition that every variant plays
    assert (track.type, track.group_id, track.default, track.uri) == ("AUDIO", "audio", "YES", "audio.m3u8")
    with av.open(io.BytesIO(rendition_bytes(outdir, track.uri))) as container:
        assert not container.streams.video
        audio = container.streams.audio[0].codec_context
        assert (audio.name, audio.sample_rate, audio.channels) == ("aac", 48000, 2)
    for variant in master.playlists:
        assert variant.stream_info.audio == "audio"
        assert variant.stream_info.codecs.endswith(",mp4a.40.2")  # the group's codec is listed too
        with av.open(io.BytesIO(rendition_bytes(outdir, variant.uri))) as container:
            assert not container.streams.audio  # encoded once, in the group, not per variant
            video = container.streams.video[0].codec_context
            assert video.profile == "High" and video.pix_fmt == "yuv420p"
            level = int(variant.stream_info.codecs.split(",")[0][-2:], 16)
            assert level == video.level <= 42


def test_progress_rises_to_one(packaged):
    reports = packaged["720p"][3]
    fractions = [r["progress"] for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) >= 3


def test_progress_is_reported_while_the_ladder_encodes(clips, tmp_path):
    """ffmpeg holds back -progress until every output has started: the sprite sheet must not
    delay it to the end. The input is read at 2x real time, so reports have time to come."""
    info = probe(clips["720p"])
    renditions = ladder.plan(info)
    sheet = thumbnails.plan(info.duration, renditions[0].width, renditions[0].height)
    args = command.encode_args(info, renditions, clips["720p"], sheet)
    args[args.index("-i"):args.index("-i")] = ["-readrate", "2"]
    reports = []
    run([ffmpeg_binary(), *args], duration=info.duration, cwd=tmp_path,
        on_progress=reports.append)
    assert [r for r in reports if 0 < r["progress"] < 0.5 and r["eta"] is not None]
    assert reports[-1]["progress"] == 1.0 and (tmp_path / "sprite.jpg").exists()


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
                          text=True, check=True, cwd=ROOT)
    vid = done.stdout.strip()
    assert "100%" in done.stderr and len(vid) == 40
    check = subprocess.run(cli + ["verify", str(tmp_path / "pkg"), vid], capture_output=True,
                           text=True, cwd=ROOT)
    assert (check.returncode, check.stdout.strip()) == (0, f"ok {vid}")
    segment = tmp_path / "pkg" / "audio_00000.m4s"
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0x01
    segment.write_bytes(bytes(data))
    check = subprocess.run(cli + ["verify", str(tmp_path / "pkg")], capture_output=True,
                           text=True, cwd=ROOT)
    assert check.returncode == 1 and "audio_00000.m4s" in check.stderr


def test_variable_frame_rate_source_comes_out_constant(clips, packaged):
    with av.open(str(clips["vfr"])) as source:
        pts = sorted(p.pts for p in source.demux(video=0) if p.pts is not None)
        assert len({b - a for a, b in zip(pts, pts[1:])}) > 2  # the source really is VFR
    outdir, _, manifest, _ = packaged["vfr"]
    frame_rate = master_of(outdir).playlists[0].stream_info.frame_rate
    assert frame_rate == 29.97  # the source averages 29.92: snapped to the nearest standard rate
    for rendition in manifest["renditions"]:
        with av.open(io.BytesIO(rendition_bytes(outdir, rendition["playlist"]))) as container:
            stream = container.streams.video[0]
            pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
        steps = {b - a for a, b in zip(pts, pts[1:])}
        assert len(steps) == 1 and float(steps.pop() * stream.time_base) == pytest.approx(1.001 / 30)
        assert len(pts) == pytest.approx(4 * frame_rate, abs=2)


def test_odd_size_source_is_packaged_at_even_sizes(packaged):
    outdir, vid, manifest, _ = packaged["odd"]
    assert verify_dir(outdir, vid) == []
    for rendition in manifest["renditions"]:
        assert rendition["width"] % 2 == 0 and rendition["height"] % 2 == 0
        assert rendition["width"] <= 321 and rendition["height"] <= 241
        with av.open(io.BytesIO(rendition_bytes(outdir, rendition["playlist"]))) as container:
            frame = next(container.decode(video=0))
            assert (frame.width, frame.height, frame.format.name) == (
                rendition["width"], rendition["height"], "yuv420p")


def test_playlists_meet_what_hls_js_expects(packaged):
    """hls.js's m3u8 parser: fMP4 needs EXT-X-MAP (so version >= 6; we write 7), a target
    duration at least every rounded EXTINF, CODECS on every variant to pick a MediaSource type."""
    for outdir, _, manifest, _ in packaged.values():
        text = (outdir / "master.m3u8").read_text()
        assert text.startswith("#EXTM3U\n") and "#EXT-X-INDEPENDENT-SEGMENTS\n" in text
        stream_infs = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF:")]
        assert len(stream_infs) == len(manifest["renditions"])
        assert all(re.search(r'CODECS="[^"]+"', line) for line in stream_infs)
        for rendition in manifest["renditions"]:
            media = (outdir / rendition["playlist"]).read_text()
            assert int(re.search(r"#EXT-X-VERSION:(\d+)", media).group(1)) >= 7
            assert re.search(r'#EXT-X-MAP:URI="[^"]+"', media)
            target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", media).group(1))
            durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", media)]
            assert durations and all(round(d) <= target for d in durations)  # RFC 8216 4.3.3.1
            assert "#EXT-X-PLAYLIST-TYPE:VOD" in media and media.rstrip().endswith("#EXT-X-ENDLIST")


def read_vtt(path):
    """[(start, end, file, (x, y, w, h))] of a WebVTT thumbnails track."""
    def seconds(stamp):
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    text = path.read_text()
    assert text.startswith("WEBVTT\n")
    cues = []
    for start, end, name, xywh in re.findall(
            r"([\d:.]+) --> ([\d:.]+)\n([\w.]+)#xywh=([\d,]+)", text):
        cues.append((seconds(start), seconds(end), name, tuple(int(v) for v in xywh.split(","))))
    return cues


def test_seek_bar_thumbnails_are_a_sprite_and_a_vtt_track(packaged):
    outdir, _, manifest, _ = packaged["720p"]
    assert manifest["thumbnails"] == "thumbnails.vtt"
    assert {"thumbnails.vtt", "sprite.jpg"} <= set(manifest["files"])
    cues = read_vtt(outdir / "thumbnails.vtt")
    assert [(c[0], c[1]) for c in cues] == [(0, 2), (2, 4), (4, 6)]  # contiguous, to the end
    with av.open(str(outdir / "sprite.jpg")) as sprite:
        frame = next(sprite.decode(video=0))
    luma, stride = bytes(frame.planes[0]), frame.planes[0].line_size
    cells = []
    for _, _, name, (x, y, w, h) in cues:
        assert name == "sprite.jpg" and (w, h) == (160, 90)
        assert x + w <= frame.width and y + h <= frame.height
        cells.append([luma[row * stride + x:row * stride + x + w] for row in range(y, y + h)])
    means = [sum(map(sum, cell)) / (160 * 90) for cell in cells]
    assert all(mean > 20 for mean in means)  # real pictures, not the tile's black padding
    # Whole frames of one scene, so alike on average; the stretched placeholder the sheet
    # overwrites would show three different thirds of one frame (means 114, 129, 142).
    assert max(means) - min(means) < 3
    assert cells[0] != cells[1] != cells[2]  # taken at different times


def test_audio_only_package_has_no_thumbnails(packaged):
    outdir, _, manifest, _ = packaged["audio"]
    assert manifest["thumbnails"] is None and not (outdir / "sprite.jpg").exists()


def test_poster_is_the_top_rendition_a_quarter_in(packaged):
    outdir, _, manifest, _ = packaged["720p"]
    with av.open(str(outdir / "poster.jpg")) as poster:
        picture = next(poster.decode(video=0))
    assert (picture.width, picture.height) == (1280, 720)
    with av.open(io.BytesIO(rendition_bytes(outdir, "720p.m3u8"))) as container:
        frames = [f for _, f in zip(range(40), container.decode(video=0))]
    # testsrc2 draws a moving ball: the poster is frame 1.5 s in, not the first frame.
    differences = [luma_difference(picture, frame) for frame in (frames[0], frames[37])]
    assert differences[1] < differences[0]


def luma_difference(a, b):
    rows_a, rows_b = (bytes(f.planes[0]) for f in (a, b))
    stride_a, stride_b = a.planes[0].line_size, b.planes[0].line_size
    total = 0
    for row in range(0, a.height, 8):
        line_a = rows_a[row * stride_a:row * stride_a + a.width:8]
        line_b = rows_b[row * stride_b:row * stride_b + b.width:8]
        total += sum(abs(x - y) for x, y in zip(line_a, line_b))
    return total
