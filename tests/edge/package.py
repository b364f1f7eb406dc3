"""A tiny hand-made HLS package, and an edge that holds it, without running the segmenter."""
import os

from protocol.manifest import build_manifest, write_manifest

PACKAGE = {  # names and bytes, as a packager would write them
    "master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n360p.m3u8\n",
    "360p.m3u8": b"#EXTM3U\n#EXT-X-MAP:URI=\"360p_init.mp4\"\n#EXTINF:4,\n360p_00000.m4s\n#EXT-X-ENDLIST\n",
    "360p_init.mp4": b"\0\0\0\x18ftypiso6" + bytes(16),
    "360p_00000.m4s": bytes(range(256)) * 40,
    "poster.jpg": b"\xff\xd8\xff\xe0" + bytes(60),
    "captions.vtt": b"WEBVTT\n",
}
RENDITIONS = [{"name": "360p", "width": 640, "height": 360, "bandwidth": 800000, "playlist": "360p.m3u8"}]


def fake_package(src, outdir, on_progress=None):
    """Stands in for segmenter.package: writes PACKAGE and its manifest into `outdir`."""
    with open(src, "rb") as f:
        assert f.read()  # it was given the upload
    for step in (0.0, 0.5, 1.0):
        on_progress({"progress": step, "speed": 2.0, "eta": 1.0 - step})
    return write_package(outdir)


def write_package(outdir, **changes):
    """Write PACKAGE, with `changes` (name: bytes) to it, and its manifest into `outdir`; return
    (video id, manifest)."""
    for name, data in {**PACKAGE, **changes}.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    manifest = build_manifest(outdir, duration=4.0, renditions=RENDITIONS, poster="poster.jpg")
    return write_manifest(outdir, manifest), manifest


def published_video(node):
    """Publish PACKAGE on the edge `node`; returns its video id."""
    staging = node.staging_path("hand-made")
    os.makedirs(staging)
    video_id, _ = fake_package(__file__, staging, on_progress=lambda report: None)
    assert node.publish(staging, video_id)
    return video_id
