"""The upload page's resumable upload (tus 1.0, tus-js-client) in Chromium: a transfer broken midway
resumes from the offset the edge kept, without sending the first part again, both when the
connection drops and when the tab is reloaded and the same file chosen again."""
import os
import re

import pytest
import requests

pytestmark = pytest.mark.browser

UPLOAD_RESOURCE = re.compile(r".*/api/v1/uploads/[A-Za-z0-9_-]{16}$")
# Every text the status line shows, however briefly.
STATUS_LOG = """
window.statusLog = [];
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("upload-status");
  new MutationObserver(() => window.statusLog.push(status.textContent)).observe(status, {childList: true});
});
"""


def test_an_interrupted_upload_resumes_where_the_edge_stopped(network, small_clip, tab, tmp_path):
    size = os.path.getsize(small_clip)
    seen, broken = [], []

    def cut_the_first_patch(route):
        """Half the body reaches the edge, then the page's connection is reset: a dropped uplink."""
        request = route.request
        body = request.post_data_buffer or b""
        seen.append((request.method, request.headers.get("upload-offset"), len(body)))
        if request.method == "PATCH" and not broken:
            half = len(body) // 2
            answer = route.fetch(post_data=body[:half])
            broken.append((answer.status, answer.headers.get("upload-offset")))
            route.abort("connectionreset")
        else:
            route.continue_()

    tab.page.route(UPLOAD_RESOURCE, cut_the_first_patch)
    tab.context.add_init_script(STATUS_LOG)
    page = tab.open(network.tracker.url + "/upload")
    status = tab.upload(small_clip, "Resumed upload")
    assert status == "Published.", status
    assert "The connection to the edge broke; resuming…" in page.evaluate("window.statusLog")
    tab.screenshot(tmp_path, "upload-resumed.png")

    half = size // 2
    assert broken == [(204, str(half))]  # the edge kept the first half
    # The break, then: where are you? (HEAD), and only the rest from there.
    assert seen == [("PATCH", "0", size), ("HEAD", None, 0), ("PATCH", str(half), size - half)]
    video = requests.get(f"{network.tracker.url}/api/v1/videos/{tab.uploaded_video()}", timeout=5).json()
    assert video["title"] == "Resumed upload" and video["duration"] > 3.5
    # Chromium logs the reset connection; nothing else may go wrong.
    assert [p for p in tab.problems if "ERR_CONNECTION_RESET" not in p] == []


def test_an_upload_cut_by_a_reload_resumes_when_the_same_file_is_chosen_again(network, small_clip, tab, tmp_path):
    size = os.path.getsize(small_clip)
    before, after = [], []

    def cut_then_hold(route):
        """The first PATCH reaches the edge half-way; then nothing more gets through until the reload."""
        request = route.request
        before.append((request.method, request.headers.get("upload-offset")))
        if request.method == "PATCH" and len(before) == 1:
            body = request.post_data_buffer or b""
            route.fetch(post_data=body[:len(body) // 2])
        route.abort("connectionreset")

    def record(route):
        request = route.request
        after.append((request.method, request.url.split("/api/v1/")[-1], request.headers.get("upload-offset")))
        route.continue_()

    tab.context.add_init_script(STATUS_LOG)
    page = tab.open(network.tracker.url + "/upload")
    page.route(UPLOAD_RESOURCE, cut_then_hold)
    page.set_input_files("#upload-file", str(small_clip))
    page.fill("#upload-title", "Resumed after a reload")
    page.click("#upload-submit")
    tab.wait("window.statusLog.some((text) => text.includes('resuming'))", message="the broken transfer")
    page.unroute(UPLOAD_RESOURCE)

    page.reload()
    page.route(re.compile(r".*/api/v1/uploads.*"), record)
    status = tab.upload(small_clip, "Resumed after a reload")
    assert status == "Published.", status
    assert "Resuming the earlier upload of this file…" in page.evaluate("window.statusLog")

    # No new placement and no new tus upload: where is my upload? (HEAD), then only the rest.
    half = str(size // 2)
    assert [(method, offset) for method, _, offset in after] == [("HEAD", None), ("PATCH", half)], after
    assert before[0] == ("PATCH", "0")
    video = requests.get(f"{network.tracker.url}/api/v1/videos/{tab.uploaded_video()}", timeout=5).json()
    assert video["title"] == "Resumed after a reload"
    # Done uploads leave nothing to resume (removeFingerprintOnSuccess).
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('tus::'))") == []
    tab.screenshot(tmp_path, "upload-resumed-after-reload.png")
    assert [p for p in tab.problems if "ERR_CONNECTION_RESET" not in p] == []
