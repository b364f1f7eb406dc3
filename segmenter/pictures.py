"""The pictures a package shows besides the video: the poster and the seek-bar sprite sheet.

Both are extra outputs of the encoding ffmpeg process (command.encode_args), cut from frames it
decodes anyway, so they cost no second decode of the upload.
"""
import ffmpeg

from . import thumbnails

POSTER = "poster.jpg"
POSTER_QUALITY = 3  # JPEG quality (2 best .. 31): sharp at a few hundred KB
SPRITE_QUALITY = 5  # clear enough for 160x90 previews at a few KB each


def poster_output(picture, at):
    """The poster: the top rendition's picture `at` seconds in (a quarter in, at most 5 s)."""
    # The first frame goes out at once, because ffmpeg reports no -progress until every output
    # has started; the first frame at `at` then overwrites it (or it stays, if the video ends).
    chosen = picture.filter("select", f"eq(n,0)+gte(t,{at:.3f})*eq(selected_n,1)")
    # Its own scale converts to the JPEG encoder's full-range YUV here, so that the split above
    # does not negotiate full range for the H.264 rendition too.
    chosen = chosen.filter("scale")
    return chosen.output(POSTER, **image_options(2, POSTER_QUALITY))


def sprite_output(video, sheet):
    """The sprite sheet: a frame every `interval` s, scaled down, tiled into one JPEG."""
    # select, not fps=1/N: fps rounds the last thumbnail away; this takes the first frame at or
    # after each multiple of the interval, with no drift at 29.97 fps.
    picked = (video.filter("select", f"gte(t,selected_n*{sheet.interval})")
              .filter("scale", sheet.width, sheet.height).filter("setsar", 1)
              .filter_multi_output("split", 2))
    tiled = picked.stream(1).filter("tile", sheet.tile)  # a short last row is flushed at the end
    # ffmpeg writes no -progress report until every output has started, and the tile comes out
    # only at the end: so the first thumbnail, stretched to the sheet's size, goes out first as a
    # placeholder that the sheet then overwrites (image2 -update keeps one file).
    placeholder = (picked.stream(0).filter("trim", end_frame=1)
                   .filter("scale", *sheet.size).filter("setsar", 1))
    # concat may stamp the sheet with the placeholder's time; 0 s and 1 s keep them apart.
    sprite = ffmpeg.concat(placeholder, tiled, n=2, v=1, a=0).filter("setpts", "N/TB")
    return sprite.output(thumbnails.SPRITE, **image_options(2, SPRITE_QUALITY))


def image_options(frames, quality):
    return {
        "f": "image2",
        "update": 1,        # one fixed file name, each frame over the last: not a sequence pattern
        "frames:v": frames,
        # Frames as they come: the default constant-rate output would repeat the placeholder to
        # fill the time until the real picture, and -frames:v would stop on a repeat.
        "fps_mode": "passthrough",
        "q:v": quality,     # JPEG quality, 2 (best) .. 31
    }
