"""The segmenter's one setting: which ffmpeg to run (FFMPEG_BINARY, README's settings table)."""
import os


def ffmpeg_binary(environ=os.environ):
    """FFMPEG_BINARY, else the static build shipped in the imageio-ffmpeg wheel."""
    if environ.get("FFMPEG_BINARY"):
        return environ["FFMPEG_BINARY"]
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
