"""Small generated clips from ffmpeg's lavfi sources, for tests."""
import subprocess

import imageio_ffmpeg


def make_clip(path, seconds=4, width=640, height=360, fps=25, audio=True, video=True):
    """Write an H.264/AAC mp4 test pattern (with a tone when `audio`) to `path`."""
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-ac", "2"]
    subprocess.run(args + [str(path)], check=True)
    return path
