"""Segmenter unit tests: manifest and id, ladder plans, the exact ffmpeg argument lists, progress.

Nothing here runs a transcode; see test_segmenter_package.py and test_segmenter_ingest.py.
"""
import hashlib
import json
import os
from fractions import Fraction

import pytest

from segmenter import ladder, thumbnails
from segmenter.command import encode_args, waveform_args
from protocol.errors import ManifestError
from protocol.ids import canonical_json, is_video_id, video_id
from protocol.manifest import build_manifest, load_manifest, parse_manifest, verify_dir, write_manifest
from segmenter.master import avc_codec, bit_rates
from segmenter.probe import Probe
from segmenter.__main__ import show_progress
from segmenter.runner import parse_progress


def probe_of(width=1280, height=720, fps=25, rotation=0, audio=True, video=True, sar=Fraction(1)):
    return Probe(format_name="mov", duration=6.0, width=width if video else 0,
                 height=height if video else 0, fps=Fraction(fps) if video else None,
                 rotation=rotation, has_video=video, has_audio=audio,
                 video_codec="h264" if video else None, audio_codec="aac" if audio else None,
                 size=1000, video_index=0 if video else None,
                 audio_index=(1 if video else 0) if audio else None, sample_aspect=sar)


# --- manifest and video id ---------------------------------------------------------------------

def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": [1, 2], "é": "ü"}) == '{"a":[1,2],"b":1,"é":"ü"}'.encode()


def test_video_id_is_first_20_bytes_of_sha256_of_canonical_bytes():
    manifest = {"version": 1, "files": {"a.m4s": {"sha256": "00" * 32, "size": 1}}}
    expected = hashlib.sha256(b'{"files":{"a.m4s":{"sha256":"' + b"0" * 64 +
                              b'","size":1}},"version":1}').hexdigest()[:40]
    assert video_id(manifest) == expected
    assert is_video_id(expected) and not is_video_id(expected.upper())


@pytest.fixture
def package_dir(tmp_path):
    (tmp_path / "master.m3u8").write_bytes(b"#EXTM3U\n")
    (tmp_path / "720p_00000.m4s").write_bytes(bytes(range(256)) * 4)
    manifest = build_manifest(tmp_path, duration=6.0, poster="poster.jpg")
    return tmp_path, manifest, write_manifest(tmp_path, manifest)


def test_manifest_lists_every_file_with_hash_and_size(package_dir):
    directory, manifest, vid = package_dir
    data = (directory / "manifest.json").read_bytes()
    assert data == canonical_json(manifest)
    assert vid == hashlib.sha256(data).digest()[:20].hex()
    assert manifest["files"]["720p_00000.m4s"] == {
        "sha256": hashlib.sha256(bytes(range(256)) * 4).hexdigest(), "size": 1024}
    assert set(manifest["files"]) == {"master.m3u8", "720p_00000.m4s"}
    assert load_manifest(directory, vid) == manifest
    assert verify_dir(directory, vid) == []


def test_verify_dir_catches_a_flipped_byte_and_a_missing_file(package_dir):
    directory, _, vid = package_dir
    segment = directory / "720p_00000.m4s"
    data = bytearray(segment.read_bytes())
    data[100] ^= 0x01
    segment.write_bytes(bytes(data))
    assert verify_dir(directory, vid) == ["720p_00000.m4s: content does not match the manifest"]
    (directory / "master.m3u8").unlink()
    assert "master.m3u8: missing" in verify_dir(directory, vid)


def test_manifest_refuses_a_wrong_id_and_path_tricks(package_dir):
    directory, _, vid = package_dir
    assert verify_dir(directory, "0" * 40) == ["manifest.json: manifest does not hash to the video id"]
    evil = json.dumps({"files": {"../etc/passwd": {"sha256": "0" * 64, "size": 1}}}).encode()
    with pytest.raises(ManifestError):
        parse_manifest(evil)


# --- ladder ----------------------------------------------------------------------------------

def names(renditions):
    return [(r.name, r.width, r.height) for r in renditions]


def test_1080p_source_gets_four_rungs_from_the_top():
    plan = ladder.plan(probe_of(1920, 1080))
    assert names(plan) == [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480),
                           ("360p", 640, 360)]
    assert [r.video_kbps for r in plan] == [6000, 3000, 1400, 800]
    assert all(r.maxrate_kbps > r.video_kbps and r.bufsize_kbps > r.maxrate_kbps for r in plan)
    assert all(r.audio_kbps == 128 for r in plan)


def test_720p_source_is_never_upscaled_and_gets_at_least_two_renditions():
    plan = ladder.plan(probe_of(1280, 720))
    assert names(plan) == [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360),
                           ("240p", 426, 240)]


def test_360p_source():
    assert names(ladder.plan(probe_of(640, 360))) == [("360p", 640, 360), ("240p", 426, 240)]


def test_odd_sizes_become_even_and_stay_within_the_source():
    plan = ladder.plan(probe_of(641, 359))
    assert names(plan) == [("360p", 640, 358), ("240p", 426, 238)]
    for width, height in [(1279, 719), (853, 479), (1001, 333), (3001, 2001), (17, 16)]:
        for r in ladder.plan(probe_of(width, height)):
            assert r.width % 2 == 0 and r.height % 2 == 0
            assert r.width <= width and r.height <= height


def test_rotated_phone_video_is_planned_in_portrait():
    plan = ladder.plan(probe_of(1920, 1080, fps=30, rotation=90))
    assert names(plan)[:2] == [("1080p", 1080, 1920), ("720p", 720, 1280)]


def test_non_square_pixels_are_planned_at_display_aspect():
    plan = ladder.plan(probe_of(720, 576, sar=Fraction(16, 15)))  # PAL 4:3
    assert names(plan)[0] == ("480p", 640, 480)


def test_audio_only_source_gets_one_audio_rendition():
    (only,) = ladder.plan(probe_of(video=False))
    assert (only.name, only.width, only.height, only.audio_kbps) == ("audio", None, None, 128)


def test_no_audio_source_has_no_audio_bitrate():
    assert all(r.audio_kbps is None for r in ladder.plan(probe_of(audio=False)))


@pytest.mark.parametrize("fps, expected", [(25, "25"), (Fraction(2997, 100), "30000/1001"),
                                           (Fraction(299, 10), "30000/1001"), (120, "60"),
                                           (None, "30"), (Fraction(25, 2), "25/2")])
def test_output_frame_rate_is_constant_standard_and_at_most_60(fps, expected):
    assert str(ladder.output_fps(fps)) == expected


def test_levels_stay_at_or_below_4_2():
    assert ladder.h264_level(1920, 1080, 60, 9630) == "4.2"
    assert ladder.h264_level(1280, 720, 25, 3210) == "3.1"
    assert ladder.h264_level(426, 240, 25, 430) == "2.1"
    for r in ladder.plan(probe_of(1920, 1080, fps=60)) + ladder.plan(probe_of(1080, 1920, fps=60)):
        assert float(r.level) <= 4.2


# --- ffmpeg argument lists -------------------------------------------------------------------

INPUT = ["-f", "mov", "-codec_whitelist", "h264,aac,aac_fixed", "-format_whitelist", "mov",
         "-max_pixels", "9437184", "-protocol_whitelist", "file"]
GLOBAL = ["-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats", "-progress", "pipe:1"]


def test_encode_args_for_a_720p_source_with_audio():
    probe = probe_of(1280, 720)
    args = encode_args(probe, ladder.plan(probe, max_renditions=2), "/uploads/clip.mp4")
    assert args == INPUT + [
        "-i", "file:/uploads/clip.mp4",
        "-filter_complex",
        # 480p is scaled from 720p, not from the source: less to scale.
        "[0:0]fps=25[s0];[s0]scale=1280:720[s1];[s1]setsar=1[s2];[s2]split=2[s3][s4];"
        "[s3]format=yuv420p[s5];[s4]scale=854:480[s6];[s6]setsar=1[s7];[s7]format=yuv420p[s8]",
        "-map", "[s5]", "-map", "[s8]", "-map", "0:1",
        "-f", "hls", "-ac", "2", "-ar", "48000", "-b:a", "128k",
        "-b:v:0", "3000k", "-b:v:1", "1400k", "-bufsize:v:0", "4500k", "-bufsize:v:1", "2100k",
        "-c:a", "aac", "-c:v", "libx264", "-force_key_frames", "expr:gte(t,n_forced*2)",
        "-hls_flags", "independent_segments", "-hls_fmp4_init_filename", "%v_init.mp4",
        "-hls_playlist_type", "vod", "-hls_segment_filename", "%v_%05d.m4s",
        "-hls_segment_type", "fmp4", "-hls_time", "4",
        "-level:v:0", "3.1", "-level:v:1", "3.0", "-map_chapters", "-1", "-map_metadata", "-1",
        "-maxrate:v:0", "3210k", "-maxrate:v:1", "1500k", "-preset", "veryfast",
        "-profile:a", "aac_low", "-profile:v", "high", "-sc_threshold", "0",
        # The largest rendition a thread a core, the others one (command.encoder_threads).
        "-threads:v:0", str(os.cpu_count() or 1), "-threads:v:1", "1",
        # One audio rendition, encoded once, that both variants play (master.m3u8's EXT-X-MEDIA).
        "-var_stream_map",
        "v:0,agroup:audio,name:720p v:1,agroup:audio,name:480p a:0,agroup:audio,name:audio",
        "%v.m3u8"] + GLOBAL


def test_encode_args_with_a_sheet_add_the_sprite_from_the_same_decode():
    probe = probe_of(640, 360, audio=False)
    renditions = ladder.plan(probe)
    sheet = thumbnails.plan(6.0, 640, 360)
    args = encode_args(probe, renditions, "/uploads/clip.mp4", sheet)
    assert args.count("-i") == 1 and args.count("-filter_complex") == 1
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:0]fps=25[s0];[s0]split=2[s1][s2];[s1]scale=640:360[s3];")
    assert graph.endswith(
        "[s2]select=gte(t\\,selected_n*2)[s11];[s11]scale=160:90[s12];[s12]setsar=1[s13];"
        "[s13]split=2[s14][s15];[s14]trim=end_frame=1[s16];[s16]scale=480:90[s17];"
        "[s17]setsar=1[s18];[s15]tile=3x1[s19];[s18][s19]concat=a=0:n=2:v=1[s20];"
        "[s20]setpts=N/TB[s21]")
    # A placeholder first (so ffmpeg's progress starts at once), then the sheet over it.
    assert args[args.index("%v.m3u8") + 1:] == [
        "-map", "[s21]", "-f", "image2", "-fps_mode", "passthrough", "-frames:v", "2",
        "-q:v", "5", "-update", "1",
        "sprite.jpg"] + GLOBAL
    assert args[args.index("-var_stream_map") + 1] == "v:0,name:360p v:1,name:240p"


def test_thumbnail_sheet_plan_spreads_at_most_100_cells():
    assert thumbnails.plan(6.0, 1280, 720) == thumbnails.Sheet(2, 3, 3, 1, 160, 90)
    assert thumbnails.plan(601.0, 1080, 1920) == thumbnails.Sheet(7, 86, 10, 9, 90, 160)
    long = thumbnails.plan(4 * 3600, 1920, 1080)
    assert (long.interval, long.count, long.tile) == (144, 100, "10x10")
    assert thumbnails.plan(1.0, 64, 48) == thumbnails.Sheet(2, 1, 1, 1, 64, 48)  # never upscaled


def test_thumbnail_track_is_webvtt_with_xywh_cues(tmp_path):
    sheet = thumbnails.plan(25.5, 1280, 720)
    thumbnails.write_track(tmp_path, sheet, 25.5)
    text = (tmp_path / "thumbnails.vtt").read_text()
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nsprite.jpg#xywh=0,0,160,90\n")
    assert "00:00:20.000 --> 00:00:22.000\nsprite.jpg#xywh=0,90,160,90\n" in text
    assert text.endswith("00:00:24.000 --> 00:00:25.500\nsprite.jpg#xywh=320,90,160,90\n")


def test_encode_args_for_an_audio_only_source():
    probe = probe_of(video=False)
    args = encode_args(probe, ladder.plan(probe), "/uploads/song.m4a")
    assert args == ["-f", "mov", "-codec_whitelist", "aac,aac_fixed", "-format_whitelist", "mov",
                    "-max_pixels", "9437184", "-protocol_whitelist", "file",
                    "-i", "file:/uploads/song.m4a",
                    "-map", "0:0", "-f", "hls", "-ac", "2", "-ar", "48000", "-b:a", "128k",
                    "-c:a", "aac", "-hls_flags", "independent_segments",
                    "-hls_fmp4_init_filename", "audio_init.mp4", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", "%v_%05d.m4s", "-hls_segment_type", "fmp4",
                    "-hls_time", "4", "-map_chapters", "-1", "-map_metadata", "-1",
                    "-profile:a", "aac_low", "-var_stream_map", "a:0,name:audio",
                    "%v.m3u8"] + GLOBAL


def test_encode_args_without_audio_map_no_audio():
    probe = probe_of(640, 360, audio=False)
    args = encode_args(probe, ladder.plan(probe), "/uploads/silent.mp4")
    assert args[args.index("-var_stream_map") + 1] == "v:0,name:360p v:1,name:240p"
    assert "0:1" not in args and "-c:a" not in args
    assert args[args.index("-codec_whitelist") + 1] == "h264"


def test_poster_comes_from_the_top_rendition_in_the_same_process():
    probe = probe_of(1280, 720, audio=False)
    args = encode_args(probe, ladder.plan(probe, max_renditions=2), "/uploads/clip.mp4",
                       poster=True)
    assert args.count("-i") == 1
    assert args[args.index("-filter_complex") + 1] == (
        "[0:0]fps=25[s0];[s0]scale=1280:720[s1];[s1]setsar=1[s2];[s2]split=3[s3][s4][s5];"
        "[s3]format=yuv420p[s6];[s4]scale=854:480[s7];[s7]setsar=1[s8];[s8]format=yuv420p[s9];"
        "[s5]select=eq(n\\,0)+gte(t\\,1.500)*eq(selected_n\\,1)[s10];[s10]scale[s11]")
    # Frame 0 first (progress starts at once), then the frame 1.5 s in over it.
    assert args[args.index("%v.m3u8") + 1:] == [
        "-map", "[s11]", "-f", "image2", "-fps_mode", "passthrough", "-frames:v", "2",
        "-q:v", "3", "-update", "1",
        "poster.jpg"] + GLOBAL


def test_waveform_poster_for_audio_only_reads_the_upload_only():
    probe = probe_of(video=False)
    args = waveform_args(probe, "/uploads/song.m4a")
    assert args.count("-i") == 1 and "lavfi" not in args
    assert args[args.index("-t") + 1] == "120"
    assert args[args.index("-filter_complex") + 1].startswith("[0:0]showwavespic=")


def test_a_hostile_file_name_stays_one_local_file_argument():
    probe = probe_of(640, 360)
    name = "/uploads/concat:a.mp4|b.mp4 -y; rm -rf ~"
    args = encode_args(probe, ladder.plan(probe), name)
    assert args[args.index("-i") + 1] == "file:" + name


# --- progress, master playlist helpers -------------------------------------------------------

def test_parse_progress_reports_fraction_speed_and_eta():
    lines = ["frame=10\n", "out_time_us=1500000\n", "speed=1.5x\n", "progress=continue\n",
             "out_time_us=N/A\n", "speed=N/A\n", "progress=continue\n",
             "out_time_us=6000000\n", "speed=2x\n", "progress=end\n"]
    reports = list(parse_progress(lines, duration=6.0))
    assert reports[0] == {"progress": 0.25, "speed": 1.5, "eta": 3.0}
    assert reports[1]["progress"] == 0.25 and reports[1]["eta"] is None  # never backwards
    assert reports[2] == {"progress": 1.0, "speed": 2.0, "eta": 0.0}


def test_peak_bit_rate_follows_rfc_8216():
    # 4 s segments of 1 MB, one of 2 MB, a short tail: peak is the 2 MB segment alone.
    segments = [(1_000_000, 4.0), (2_000_000, 4.0), (1_000_000, 4.0), (10_000, 0.2)]
    peak, average = bit_rates(segments, target=4)
    assert peak == 4_000_000
    assert average == round(4_010_000 * 8 / 12.2)


def test_avc_codec_string_comes_from_the_avcc_box():
    init = b"\x00\x00\x00\x35avcC\x01\x64\x00\x1f\xff\xe1"
    assert avc_codec(init) == "avc1.64001f"


def test_cli_progress_bar_shows_fraction_speed_and_eta(capsys):
    show_progress({"progress": 0.25, "speed": 1.5, "eta": 3725.4})
    show_progress({"progress": 0.5, "speed": 2.0, "eta": 65})
    show_progress({"progress": 0.98, "speed": None, "eta": None})
    bars = capsys.readouterr().err.split("\r")[1:]
    assert bars[0].startswith("[#######.......................]  25% 1.50x eta 1:02:05")
    assert "  50% 2.00x eta 1:05" in bars[1]
    assert bars[2].rstrip() == "[#############################.]  98%"
