"""Fixtures of the website's tests: the browser (one a module), a fresh tab, another origin, fake trackers."""
import pytest
from playwright.sync_api import sync_playwright

from tests.player.chromium import CHROMIUM, CHROMIUM_ARGS, OtherOrigin, Tab
from tests.player.fakes import FakeTracker


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser):
    opened = Tab(browser)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def other_origin():
    site = OtherOrigin()
    yield site
    site.close()


@pytest.fixture(scope="module")
def trackers():
    started = []

    def start():
        started.append(FakeTracker())
        return started[-1]
    yield start
    for fake in started:
        fake.close()


@pytest.fixture(scope="module")
def fake_tracker(trackers):
    return trackers().url
