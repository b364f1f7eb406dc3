"""Crafted hostile uploads: real small files with edited bytes, and tricks that would make FFmpeg
read other files or URLs. Each is refused with a typed error, or packaged without leaking a byte."""
import os
import shutil
import struct

import pytest

from segmenter import ProbeError, RejectedInput, package
from segmenter.probe import probe
from tests.clips import make_clip
from tests.segmenter.playlists import hls_playlist
from tests.servers import ROOT


def passwd_head():
    """The start of /etc/passwd: finding it in an output would be a leak."""
    with open("/etc/passwd", "rb") as f:
        return f.read(64)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 4 s 320x240 H.264/AAC mp4 with its moov box last, as ffmpeg writes it by default."""
    return make_clip(tmp_path_factory.mktemp("hostile") / "clip.mp4", seconds=4, width=320,
                     height=240)


def outputs_contain(outdir, needle):
    return any(needle in (outdir / name).read_bytes() for name in os.listdir(outdir))


# --- MP4 boxes and the H.264 SPS, edited in place -------------------------------------------

def box_chain(data, path):
    """Offsets of the first box of each type along `path`, e.g. (b"moov", b"trak", b"tkhd")."""
    start, end, chain = 0, len(data), []
    for kind in path:
        at = start
        while at + 8 <= end and data[at + 4:at + 8] != kind:
            at += struct.unpack(">I", data[at:at + 4])[0]
        assert at + 8 <= end, f"no {kind} box"
        chain.append(at)
        # stsd has version/flags and a count, avc1 a 78-byte VisualSampleEntry before its boxes.
        start = at + 8 + {b"stsd": 8, b"avc1": 78}.get(kind, 0)
        end = at + struct.unpack(">I", data[at:at + 4])[0]
    return chain


CONTAINERS = (b"moov", b"trak", b"mdia", b"edts")


def all_boxes(data, kind, start=0, end=None, parents=CONTAINERS[:3]):
    """Offsets of every `kind` box under the plain container boxes."""
    end = len(data) if end is None else end
    found, at = [], start
    while at + 8 <= end:
        size, name = struct.unpack(">I4s", data[at:at + 8])
        if name == kind:
            found.append(at)
        elif name in parents:
            found += all_boxes(data, kind, at + 8, at + size, parents)
        at += size
    return found


def forge_headers(data, seconds):
    """mvhd, tkhd, mdhd and elst (version 0) claim `seconds`; the samples are unchanged."""
    data = bytearray(data)

    def u32(at):
        return struct.unpack(">I", data[at:at + 4])[0]

    movie_scale = u32(all_boxes(data, b"mvhd")[0] + 20)
    fields = [(at + 24, movie_scale) for at in all_boxes(data, b"mvhd")]
    fields += [(at + 28, movie_scale) for at in all_boxes(data, b"tkhd")]  # the movie's scale
    fields += [(at + 24, u32(at + 20)) for at in all_boxes(data, b"mdhd")]
    # An edit list's first segment (movie scale) also bounds what FFmpeg plays of a track.
    fields += [(at + 16, movie_scale) for at in all_boxes(data, b"elst", parents=CONTAINERS)]
    for at, scale in fields:
        data[at:at + 4] = struct.pack(">I", int(seconds * scale))
    return bytes(data)


def forge_sample_table(data, seconds):
    """The video's last frame lasts until `seconds` (its stts gets one more entry), which is
    where FFmpeg takes a stream's duration from; moov is last, so no sample offset moves."""
    data = bytearray(data)
    chain = box_chain(data, (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"))
    assert chain[0] + struct.unpack(">I", data[chain[0]:chain[0] + 4])[0] == len(data)
    mdhd = box_chain(data, (b"moov", b"trak", b"mdia", b"mdhd"))[-1]
    scale = struct.unpack(">I", data[mdhd + 20:mdhd + 24])[0]
    stts = chain[-1]
    (entries,) = struct.unpack(">I", data[stts + 12:stts + 16])
    table = [struct.unpack(">II", data[stts + 16 + 8 * i:stts + 24 + 8 * i]) for i in range(entries)]
    (count, delta), elapsed = table[-1], sum(n * d for n, d in table)
    table[-1:] = [(count - 1, delta), (1, int(seconds * scale) - (elapsed - delta))]
    body = struct.pack(">I", len(table)) + b"".join(struct.pack(">II", *e) for e in table)
    data[stts + 12:stts + 16 + 8 * entries] = body
    for at in chain:
        size = struct.unpack(">I", data[at:at + 4])[0]
        data[at:at + 4] = struct.pack(">I", size + 8)
    return bytes(forge_headers(data, seconds))


class Bits:
    """An RBSP bit reader with the Exp-Golomb ue(v) of H.264 section 9.1."""

    def __init__(self, data):
        self.bits, self.at = "".join(f"{b:08b}" for b in data), 0

    def u(self, n):
        self.at += n
        return int(self.bits[self.at - n:self.at], 2)

    def ue(self):
        zeros = self.bits.index("1", self.at) - self.at
        self.at += zeros
        return self.u(zeros + 1) - 1


def ue(value):
    code = f"{value + 1:b}"
    return "0" * (len(code) - 1) + code


def escape(rbsp):
    """Emulation prevention (H.264 7.4.1): a 3 after two zero bytes before any byte <= 3."""
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def resize_sps(sps, width, height):
    """The SPS NAL with pic_width/height_in_mbs_minus1 rewritten (x264's High profile layout)."""
    r = Bits(sps.replace(b"\x00\x00\x03", b"\x00\x00"))
    r.u(8)
    profile = r.u(8)
    r.u(16), r.ue()
    if profile in (100, 110, 122, 244):
        assert r.ue() == 1, "4:2:0 expected"
        r.ue(), r.ue(), r.u(1)
        assert r.u(1) == 0, "scaling matrices not handled"
    r.ue()
    poc_type = r.ue()
    assert poc_type in (0, 2)
    if poc_type == 0:
        r.ue()
    r.ue(), r.u(1)
    head = r.bits[:r.at]
    r.ue(), r.ue()
    rest = r.bits[r.at:].rstrip("0")[:-1]  # without rbsp_stop_one_bit and its alignment
    bits = head + ue(width // 16 - 1) + ue(height // 16 - 1) + rest + "1"
    bits += "0" * (-len(bits) % 8)
    return escape(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))


def forge_size(data, width, height):
    """The SPS in avcC, the sample entry and tkhd all declare width x height; since moov is the
    last box, growing it moves no sample offset, so the pictures themselves stay 320x240."""
    data = bytearray(data)
    chain = box_chain(data, (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"avc1", b"avcC"))
    assert chain[0] + struct.unpack(">I", data[chain[0]:chain[0] + 4])[0] == len(data)
    avcc = chain[-1]
    length = struct.unpack(">H", data[avcc + 14:avcc + 16])[0]
    sps = resize_sps(bytes(data[avcc + 16:avcc + 16 + length]), width, height)
    data[avcc + 14:avcc + 16 + length] = struct.pack(">H", len(sps)) + sps
    for at in chain:
        size = struct.unpack(">I", data[at:at + 4])[0]
        data[at:at + 4] = struct.pack(">I", size + len(sps) - length)
    data[chain[-2] + 32:chain[-2] + 36] = struct.pack(">HH", width, height)
    tkhd = box_chain(data, (b"moov", b"trak", b"tkhd"))[-1]
    data[tkhd + 84:tkhd + 92] = struct.pack(">II", width << 16, height << 16)
    return bytes(data)


# --- files that point elsewhere -------------------------------------------------------------

def riff(tag, data):
    return tag + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)


def gab2_avi(video, playlist):
    """An MJPEG AVI with a GAB2 subtitle stream holding `playlist`: FFmpeg's AVI demuxer probes
    such a payload and would open it with a nested demuxer (the 2017 HLS-in-AVI file disclosure)."""
    frames = [f + b"\xff\xd9" for f in video.split(b"\xff\xd9")[:-1]]
    width, height, count = 64, 48, len(frames)
    stream_header = "<4s4sIHHIIIIIIIIhhhh"
    avih = struct.pack("<14I", 100000, 0, 0, 0, count, 0, 2, 1 << 16, width, height, 0, 0, 0, 0)
    vids = struct.pack(stream_header, b"vids", b"MJPG", 0, 0, 0, 0, 1, 10, 0, count, 1 << 16,
                       0, 0, 0, 0, width, height)
    bitmap = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3,
                         0, 0, 0, 0)
    txts = struct.pack(stream_header, b"txts", b"\0" * 4, 0, 0, 0, 0, 1, 10, 0, 1, 1 << 16,
                       0, 0, 0, 0, 0, 0)
    title = "x".encode("utf-16le") + b"\0\0"
    gab2 = (b"GAB2\0" + struct.pack("<HI", 2, len(title)) + title
            + struct.pack("<HI", 4, len(playlist)) + playlist)
    hdrl = riff(b"LIST", b"hdrl" + riff(b"avih", avih)
                + riff(b"LIST", b"strl" + riff(b"strh", vids) + riff(b"strf", bitmap))
                + riff(b"LIST", b"strl" + riff(b"strh", txts) + riff(b"strf", b"")))
    movi = riff(b"LIST", b"movi" + riff(b"01tx", gab2) + b"".join(riff(b"00dc", f) for f in frames))
    return riff(b"RIFF", b"AVI " + hdrl + movi)


def mjpeg_frames(tmp_path):
    import subprocess

    from segmenter.config import ffmpeg_binary

    subprocess.run([ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=10:duration=3", "-c:v", "mjpeg", "-f", "mjpeg",
                    str(tmp_path / "frames.mjpeg")], check=True)
    return (tmp_path / "frames.mjpeg").read_bytes()


def test_hls_playlist_hidden_in_an_avi_reads_nothing_outside_the_upload(tmp_path, canary):
    url, hits = canary
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"SECRET-BYTES" * 100)
    playlist = (b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n"
                b"#EXTINF:1,\nconcat:" + str(secret).encode() + b"|/etc/passwd\n"
                b"#EXTINF:1,\n" + url.encode() + b"/canary.ts\n#EXT-X-ENDLIST\n")
    upload = tmp_path / "video.avi"
    upload.write_bytes(gab2_avi(mjpeg_frames(tmp_path), playlist))
    try:
        package(upload, tmp_path / "out")
    except (ProbeError, RejectedInput):
        assert not (tmp_path / "out").exists()
    else:  # the video stream is fine; the subtitle payload must simply never be followed
        assert not outputs_contain(tmp_path / "out", b"SECRET-BYTES")
        assert not outputs_contain(tmp_path / "out", passwd_head())
    assert hits == []


def test_a_playlist_named_avi_is_refused(tmp_path, canary):
    url, hits = canary
    with pytest.raises(RejectedInput) as refused:
        package(hls_playlist(tmp_path, url, name="movie.avi"), tmp_path / "out")
    assert refused.value.status == 415 and hits == []


def test_concat_protocol_name_is_one_literal_local_file(tmp_path, clip, monkeypatch):
    """`concat:a|b` is a file name like any other: it is never joined from other files."""
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"SECRET-BYTES" * 100)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProbeError):  # no such file on disk: nothing is concatenated
        package(f"concat:secret.ts|{clip}", tmp_path / "none")
    assert not (tmp_path / "none").exists()
    shutil.copy(clip, tmp_path / "concat:secret.ts|clip.mp4")
    _, manifest = package("concat:secret.ts|clip.mp4", tmp_path / "out")
    assert abs(manifest["duration"] - 4.0) < 0.1
    assert not outputs_contain(tmp_path / "out", b"SECRET-BYTES")


# --- lying headers and cut data --------------------------------------------------------------

def test_mp4_with_intact_header_but_cut_data_is_refused(tmp_path, clip):
    import subprocess

    from segmenter.config import ffmpeg_binary

    faststart = tmp_path / "faststart.mp4"  # moov first: the header survives the cut whole
    subprocess.run([ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-c",
                    "copy", "-movflags", "+faststart", str(faststart)], check=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(faststart.read_bytes()[:faststart.stat().st_size * 4 // 10])
    assert probe(cut).duration == pytest.approx(4.0, abs=0.1)  # the header still says 4 s
    with pytest.raises(RejectedInput) as refused:
        package(cut, tmp_path / "out")
    assert refused.value.status == 422 and "truncated" in refused.value.reason
    assert not (tmp_path / "out").exists()


def test_duration_headers_that_lie_are_not_believed(tmp_path, clip):
    """mvhd/tkhd/mdhd saying 10 h: FFmpeg takes durations from the sample table, so the probe
    sees the real 4 s and the package is the real 4 s."""
    forged = tmp_path / "long.mp4"
    forged.write_bytes(forge_headers(clip.read_bytes(), 10 * 3600))
    assert probe(forged).duration == pytest.approx(4.0, abs=0.1)
    _, manifest = package(forged, tmp_path / "out")
    assert manifest["duration"] == pytest.approx(4.0, abs=0.1)


def test_a_ten_hour_sample_table_is_refused_before_decoding(tmp_path, clip):
    forged = tmp_path / "long.mp4"
    forged.write_bytes(forge_sample_table(clip.read_bytes(), 10 * 3600))
    with pytest.raises(RejectedInput) as refused:
        package(forged, tmp_path / "out")
    assert refused.value.status == 413 and "longer than the 4 h limit" in refused.value.reason
    assert not (tmp_path / "out").exists()


def test_forged_size_is_read_back_as_forged(tmp_path, clip):
    """The crafting works: what the probe sees is the lie, not the real 320x240 pictures."""
    forged = tmp_path / "same.mp4"
    forged.write_bytes(forge_size(clip.read_bytes(), 336, 256))
    info = probe(forged)
    assert (info.width, info.height) == (336, 256)


@pytest.mark.parametrize("width, height, status", [(16000, 8992, 413), (8192, 8192, 413),
                                                   (4112, 2304, 413), (16384, 16384, 422)])
def test_a_huge_declared_resolution_is_refused_without_allocating_it(tmp_path, clip, width,
                                                                     height, status):
    import subprocess
    import sys

    forged = tmp_path / "huge.mp4"
    forged.write_bytes(forge_size(clip.read_bytes(), width, height))
    with pytest.raises(RejectedInput) as refused:
        package(forged, tmp_path / "out")
    assert refused.value.status == status and not (tmp_path / "out").exists()
    # In a fresh process, so the peak is the probe's own: a 16000x8992 frame pool is ~1 GB. VmHWM is the
    # peak of this program's memory; ru_maxrss would not do: Linux carries it across exec, so a child
    # spawned with vfork reports the peak of the test run that spawned it.
    code = ("import segmenter.probe as p\n"
            "try: p.probe(%r)\nexcept p.RejectedInput: pass\n"
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))"
            % str(forged))
    peak_kib = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, cwd=ROOT)
                   .stdout)
    assert peak_kib < 200 * 1024  # VmHWM is in KiB
