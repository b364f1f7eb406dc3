"""The website's pages: shells whose scripts fetch their data from the tracker's JSON API."""

from urllib.parse import urlsplit

from flask import abort, current_app, render_template, request

from protocol.ids import is_public_key, is_video_id

from . import feed

# Scripts and styles only from this site; data, posters and media from any tracker or edge;
# blob: for hls.js's MSE media source and its transmuxing worker, and for the seek-bar sprite
# (thumbnails.js shows its checked bytes from a blob: URL).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data: blob:; "
       "media-src 'self' http: https: blob:; connect-src 'self' http: https:; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")


def register(bp):
    bp.add_url_rule("/", "home", home)
    bp.add_url_rule("/upload", "upload", upload)
    bp.add_url_rule("/watch/<video_id>", "watch", watch)
    bp.add_url_rule("/embed/<video_id>", "embed", embed)
    bp.add_url_rule("/channel", "your_channel", your_channel)
    bp.add_url_rule("/c/<channel>", "channel", channel_page)
    bp.add_url_rule("/c/<channel>/feed.atom", "channel_feed", channel_feed)
    bp.add_url_rule("/admin", "admin", admin)
    bp.register_error_handler(404, not_found)
    bp.context_processor(page_context)


def page_context():
    return {
        "site_name": current_app.config["PLAYER_SITE_NAME"],
        "tracker_url": current_app.config["PLAYER_TRACKER_URL"],
    }


def page(template, status=200, embeddable=False, **context):
    response = current_app.make_response((render_template(template, **context), status))
    # Only the embed page may be framed by other sites; the rest is protected from clickjacking.
    response.headers["Content-Security-Policy"] = CSP.format(ancestors="*" if embeddable else "'self'")
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def checked(video_id):
    if not is_video_id(video_id):
        abort(404)
    return video_id


def checked_channel(channel):
    if not is_public_key(channel):
        abort(404)
    return channel


def home():
    return page("player/home.html", query=request.args.get("q", ""))


def upload():
    return page("player/upload.html")


def watch(video_id):
    return page("player/watch.html", video_id=checked(video_id), boot=boot(video_id))


def embed(video_id):
    return page("player/embed.html", video_id=checked(video_id), boot=boot(video_id), embeddable=True)


def boot(video_id):
    """The video and its sources as the tracker mounting us would answer them, carried in the page so
    the player starts at once (bench/first_frame.py); None when the pages talk to another tracker
    (PLAYER_TRACKER_URL) or this one does not hold the video: the scripts then ask the API."""
    find = current_app.extensions.get("player.boot")
    if find is None or current_app.config["PLAYER_TRACKER_URL"]:
        return None
    found = find(video_id)
    if found and found["sources"]:
        first = found["sources"]["sources"][0]
        if first.get("reach") != "webrtc":  # a home edge's URL is not reachable: its files come by data channel
            found["preconnect"] = origin(first["url"])
            # The player's first two fetches from that edge, started while its scripts load; the
            # player checks them as it would any file (player-verify.js fetches them in the same mode).
            files = f"{first['url'].rstrip('/')}/videos/{video_id}/"
            found["preload"] = [files + "manifest.json", files + "master.m3u8"]
    return found


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def your_channel():
    return page("player/your_channel.html")


def channel_page(channel):
    return page("player/channel.html", channel=checked_channel(channel))


def channel_feed(channel):
    return feed.feed(checked_channel(channel))


def admin():
    """The operator's page: a shell; its script asks the operator API with the token typed in."""
    response = page("player/admin.html")
    response.headers["Cache-Control"] = "no-store"
    return response


def not_found(error):
    return page("player/not_found.html", status=404)
