"""A home edge (tests/webrtc/home.py) that every viewer can connect to, for the player's browser tests
and bench/player_webrtc.py."""
from concurrent.futures import ThreadPoolExecutor

from tests.actions import wait_for
from tests.webrtc.home import Home
from tests.webrtc.viewer import connect, run, sources


def connectable_home(root, clip, **tracker_env):
    """A started Home whose edge a viewer connects to through the tracker (Home.start restarts the edge:
    until the tracker's worker that held the stopped process's socket sees it gone, offers go only
    through the new one, tracker/nodes/sockets.py Signal.take)."""
    home = Home()
    try:
        home.start(root, clip, **tracker_env)
        wait_for(lambda: connectable(home), timeout=90, interval=0.5, message="a connect to the home edge")
    except BaseException:
        home.stop()
        raise
    return home


def connectable(home):
    """True once a viewer in Python connects to the home edge through the tracker."""
    answer = sources(home.tracker.url, home.video_id)
    source = next((s for s in answer["sources"] if s["reach"] == "webrtc"), None)
    if source is None:
        return False  # its socket not back yet

    async def once():
        peer, _ = await connect(source, home.video_id, answer["ice_servers"])
        await peer.close()
    # On a thread of its own: Playwright's sync API keeps an event loop running on the caller's.
    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(run, once()).result()
        except AssertionError:  # the connect's refusal
            return False
    return True
