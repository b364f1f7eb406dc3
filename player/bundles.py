"""Each player page's scripts as one file, so a cold watch or embed page asks the tracker once for
them instead of ten times: the player starts only once every deferred script has run, and as
separate files each waited 25–45 ms for one of Chromium's six connections to the tracker (README
"Benchmarks", bench/first_frame.py). The files are joined in the order the pages ran them, and
separate scripts of a page share one global scope anyway. Pages on other sites still load
slipstream-player.js alone, which fetches its parts from beside it.
"""
import hashlib
import io
import os

from flask import abort, send_file

PLAYER = ["error.js", "site.js", "player-sources.js", "player-verify.js", "player-stats.js", "player-webrtc.js",
          "slipstream-player.js", "thumbnails.js"]
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")  # the blueprint's static_folder
BUNDLES = {
    "watch.bundle.js": PLAYER + ["watch.js", "donate.js"],
    "embed.bundle.js": PLAYER + ["embed.js"],
}


def register(bp):
    # Served beside the files they join (more specific than the static route's <path:filename>), so
    # slipstream-player.js finds sha256.js and ../vendor/hls.min.js where it would as a file of its own.
    bp.add_url_rule("/player/static/<any(%s):name>" % ", ".join(BUNDLES), "bundle", bundle)


def bundle(name):
    if name not in BUNDLES:
        abort(404)
    body, newest, etag = joined(name)
    return send_file(io.BytesIO(body), mimetype="text/javascript", download_name=name, conditional=True,
                     last_modified=newest, etag=etag, max_age=None)


_joined = {}  # bundle name -> (its parts' mtimes, body, newest mtime, ETag): joined again when a part changes


def joined(name):
    """(body, newest part's mtime, ETag) of the bundle `name`, its parts read again only once one changed
    (a stat of each per request, not a read: under `-k gthread` every request of it comes here)."""
    paths = [os.path.join(STATIC, part) for part in BUNDLES[name]]
    mtimes = tuple(os.path.getmtime(path) for path in paths)
    held = _joined.get(name)
    if held is None or held[0] != mtimes:
        parts = []
        for path in paths:
            with open(path, "rb") as f:
                parts.append(f.read())
        body = b"\n;\n".join(parts)  # a file without its final newline or semicolon ends before the next
        held = _joined[name] = (mtimes, body, max(mtimes), hashlib.sha256(body).hexdigest()[:32])
    return held[1:]
