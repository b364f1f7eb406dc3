"""The channel key in Chromium: the page's canonical JSON is byte for byte Python's, its signatures (by
WebCrypto's Ed25519 and by @noble/ed25519 alike) verify with protocol/signing.py, and a key exported
to a file is the same key in Python and after an import, where the owner's page lists and edits the
channel's unlisted videos though that browser never uploaded them."""
import json
import os

import nacl.signing
import pytest
import requests

from protocol.ids import canonical_json
from protocol.signing import verify, verify_fresh
from tests.actions import send, wait_published
from tests.channels import ChannelKey

pytestmark = pytest.mark.browser

# Non-ASCII of every width, every escape JSON has, U+2028 (raw in both), keys that sort differently by
# UTF-16 unit (JS's default) and by code point (Python's): U+FFFF < U+1F600 only by code point.
PAYLOAD = {
    "title": "Ünïcødé — 日本語 🎬 \"quoted\" back\\slash\nnew\ttab \u0001\u001f\u007f \u2028 </script>",
    "description": "", "timestamp": 1764680000, "size": 9007199254740991, "negative": -5,
    "nested": {"b": [1, True, None, "é"], "a": {"ß": "ẞ"}},
    "\uffff": "last BMP", "😀": "astral", "Z": 1, "a": 2, "é": 3,
}

SIGN_WITH_BOTH = """async (payload) => {
  const {engines, canonicalJson, hex} = window.SlipstreamChannel;
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const text = canonicalJson(payload);
  const bytes = new TextEncoder().encode(text);
  const out = {seed: hex(seed), text};
  for (const [name, engine] of Object.entries(engines)) {
    out[name] = {available: await engine.available(), channel: hex(await engine.publicKey(seed)),
                 signature: hex(await engine.sign(seed, bytes))};
  }
  return out;
}"""


def open_channel_page(tab, network):
    page = tab.open(network.tracker.url + "/channel")
    tab.wait("window.SlipstreamChannel !== undefined", message="channel-key.js")
    return page


def test_canonical_json_and_signatures_verify_in_python(network, tab):
    page = open_channel_page(tab, network)
    signed = page.evaluate(SIGN_WITH_BOTH, PAYLOAD)
    assert signed["text"].encode() == canonical_json(PAYLOAD)
    channel = nacl.signing.SigningKey(bytes.fromhex(signed["seed"])).verify_key.encode().hex()
    for engine in ("webcrypto", "noble"):
        assert signed[engine]["available"], engine
        assert signed[engine]["channel"] == channel, engine
        assert verify({"payload": PAYLOAD, "signature": signed[engine]["signature"]}, channel) == PAYLOAD
    # Ed25519 is deterministic: both libraries give the very same signature.
    assert signed["webcrypto"]["signature"] == signed["noble"]["signature"]
    assert page.evaluate("window.SlipstreamChannel.engine()") == "webcrypto"  # Chromium has Ed25519
    assert tab.problems == []


@pytest.mark.parametrize("value, code", [("1.5", "bad_number"), ("2 ** 53", "bad_number"),
                                         ("'lone \\ud800'", "bad_text")])
def test_what_python_would_write_otherwise_is_refused(network, tab, value, code):
    """A JS expression each, so the lone surrogate is made in the page, not mended on its way there."""
    page = open_channel_page(tab, network)
    refused = page.evaluate(f"""(() => {{
      try {{ window.SlipstreamChannel.canonicalJson({{value: {value}}}); return null; }} catch (err) {{ return err.code; }}
    }})()""")
    assert refused == code


def test_a_created_key_signs_fresh_documents_and_survives_export_and_import(network, tab):
    page = open_channel_page(tab, network)
    page.click("#key-create")
    tab.wait("document.getElementById('key-channel').textContent.length === 64", message="the new key")
    channel = page.text_content("#key-channel")
    document = page.evaluate("window.SlipstreamChannel.sign('upload', {title: 'Grüße', size: 10})")
    assert document["payload"]["channel"] == channel and document["payload"]["action"] == "upload"
    assert verify_fresh(document, channel)["title"] == "Grüße"

    with page.expect_download() as download:
        page.click("#key-export")
    with open(download.value.path(), encoding="utf-8") as f:
        saved = json.load(f)
    assert "lost for good" in saved["warning"] and saved["channel"] == channel
    assert nacl.signing.SigningKey(bytes.fromhex(saved["seed"])).verify_key.encode().hex() == channel

    # A second browser (another device) takes the file and acts as the same channel.
    other = type(tab)(tab.context.browser)
    try:
        page2 = open_channel_page(other, network)
        page2.set_input_files("#key-import", download.value.path())
        other.wait(f"document.getElementById('key-channel').textContent === '{channel}'", message="the import")
        assert "Key imported" in page2.text_content("#key-status")
        again = page2.evaluate("window.SlipstreamChannel.sign('channel', {n: 1})")
        assert verify_fresh(again, channel) == again["payload"]
        # A damaged file is refused with a reason, and the key stays.
        page2.once("dialog", lambda dialog: dialog.accept())  # "Replace this browser's channel key?"
        page2.set_input_files("#key-import", files=[{"name": "bad.json", "mimeType": "application/json",
                                                     "buffer": json.dumps(dict(saved, channel="0" * 64)).encode()}])
        other.wait("document.getElementById('key-status').dataset.kind === 'error'", message="the refusal")
        assert "damaged" in page2.text_content("#key-status")
        assert page2.text_content("#key-channel") == channel
        # The owner's page asks for the channel and its account, which a channel with no name saved
        # and no gift does not have yet: the tracker's refusals, as expected.
        assert [p for p in other.problems if "status of 404" not in p] == []
    finally:
        other.close()


def test_a_second_device_with_the_imported_key_manages_an_unlisted_video(network, small_clip, tab):
    page = open_channel_page(tab, network)
    page.click("#key-create")
    tab.wait("document.getElementById('key-channel').textContent.length === 64", message="the new key")
    with page.expect_download() as download:
        page.click("#key-export")
    with open(download.value.path(), encoding="utf-8") as f:
        channel = ChannelKey(nacl.signing.SigningKey(bytes.fromhex(json.load(f)["seed"])))
    # An unlisted video of the channel, uploaded by no browser: in no public listing, nor this one's storage.
    placement = requests.post(network.tracker.url + "/api/v1/uploads", timeout=10, json=channel.placement(
        "Probe, unlisted", size=os.path.getsize(small_clip), visibility="unlisted"))
    assert placement.status_code == 200, placement.text
    video_id = wait_published(send(placement.json(), small_clip)["status_url"])["video_id"]
    assert requests.get(f"{network.tracker.url}/api/v1/channels/{channel.id}", timeout=5).json()["videos"] == []

    other = type(tab)(tab.context.browser)  # a fresh context: its own IndexedDB and localStorage
    try:
        page2 = open_channel_page(other, network)
        assert page2.evaluate("window.SlipstreamChannel.load()") is None
        page2.set_input_files("#key-import", download.value.path())
        item = f"form[data-video-id='{video_id}']"
        other.wait(f"document.querySelector(\"{item}\") !== null", message="the unlisted video on the second device")
        assert page2.text_content(f"{item} .video-visibility") == "unlisted"
        assert page2.text_content("#videos-status") == "1 video"
        page2.fill(f"{item} [name=title]", "Probe, renamed elsewhere")
        page2.click(f"{item} button[type=submit]")
        other.wait(f"document.querySelector(\"{item} .status\").dataset.kind", message="the edit's answer")
        assert page2.text_content(f"{item} .status") == "Saved."
        video = requests.get(f"{network.tracker.url}/api/v1/videos/{video_id}", timeout=5).json()
        assert (video["title"], video["visibility"]) == ("Probe, renamed elsewhere", "unlisted")
        # A channel with no name saved and no gift: the profile and account reads are 404, as expected.
        assert [p for p in other.problems if "status of 404" not in p] == []
    finally:
        other.close()


# A browser whose WebCrypto has no Ed25519 (Firefox before 129, Safari before 17): importKey refuses it.
NO_WEBCRYPTO_ED25519 = """(() => {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
    (algorithm && algorithm.name === "Ed25519") ? Promise.reject(new DOMException("no Ed25519", "NotSupportedError"))
      : importKey(format, data, algorithm, ...rest);
})();"""


def test_without_webcrypto_ed25519_the_page_signs_with_noble(network, tab):
    tab.context.add_init_script(NO_WEBCRYPTO_ED25519)
    loaded = []
    tab.page.on("request", lambda request: loaded.append(request.url))
    page = open_channel_page(tab, network)
    page.click("#key-create")
    tab.wait("document.getElementById('key-channel').textContent.length === 64", message="the new key")
    assert page.evaluate("window.SlipstreamChannel.engine()") == "noble"
    assert f"{network.tracker.url}/player/vendor/noble-ed25519.js" in loaded
    channel = page.text_content("#key-channel")
    document = page.evaluate("window.SlipstreamChannel.sign('upload', {title: 'Ünïcødé 🎬', size: 3})")
    assert verify_fresh(document, channel)["title"] == "Ünïcødé 🎬"
    assert [p for p in tab.problems if "status of 404" not in p] == []
