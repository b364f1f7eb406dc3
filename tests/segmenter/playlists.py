"""HLS playlists posing as uploads: if FFmpeg followed one, it would read a local file and ask the
`canary` fixture's server for a segment."""


def hls_playlist(tmp_path, canary_url, name="video.mp4", prefix=b""):
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"SECRET-BYTES" * 100)
    path = tmp_path / name
    path.write_bytes(prefix + b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
                     b"#EXTINF:4,\nfile://" + str(secret).encode() + b"\n"
                     b"#EXTINF:4,\n" + canary_url.encode() + b"/segment.ts\n#EXT-X-ENDLIST\n")
    return path
