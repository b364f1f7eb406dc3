"""Debian's Chromium inside a namespace, driven by Playwright from outside it: Playwright talks to the
browser over inherited pipes (--remote-debugging-pipe), which `ip netns exec` keeps, so a two-line
wrapper that execs Chromium inside the namespace is its executable."""
import os

from tests.player.chromium import CHROMIUM, CHROMIUM_ARGS


def wrapper(folder, namespace):
    path = os.path.join(folder, f"chromium-in-{namespace.name}")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nexec ip netns exec {namespace.name} {CHROMIUM} "$@"\n')
    os.chmod(path, 0o755)
    return path


# Chromium as viewers have it: tests/player turns its mDNS host names off to find a loopback edge, but
# behind real NATs the address STUN saw is the one that connects, so here the browser keeps its default.
ARGS = [arg for arg in CHROMIUM_ARGS if "WebRtcHideLocalIpsWithMdns" not in arg]


def launch(playwright, folder, internet, namespace, pins=()):
    """Chromium in `namespace`, resolving the internet's names; it trusts the certificates whose public
    keys are `pins` (the test CA is never added to a trust store, so nothing else is trusted)."""
    return playwright.chromium.launch(
        executable_path=wrapper(folder, namespace), headless=True,
        args=[*ARGS, f"--host-resolver-rules={internet.resolver_rules()}",
              *([f"--ignore-certificate-errors-spki-list={','.join(pins)}"] if pins else [])])
