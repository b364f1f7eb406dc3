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
    parts, newest = [], 0.0
    for part in BUNDLES[name]:
        path = os.path.join(STATIC, part)
        with open(path, "rb") as f:
            parts.append(f.read())
        newest = max(newest, os.path.getmtime(path))
    body = b"\n;\n".join(parts)  # a file without its final newline or semicolon ends before the next
    return send_file(io.BytesIO(body), mimetype="text/javascript", download_name=name, conditional=True,
                     last_modified=newest, etag=hashlib.sha256(body).hexdigest()[:32], max_age=None)
