"""Opening the edge's port on a home router (issue 18, item 1): UPnP-IGD through miniupnpc (the
reference client, by miniupnpd's author). An edge behind NAT finds the router, maps its port, and
while the mapping holds announces `<scheme>://<router's public address>:<mapped port>` in place of a
configured URL that nobody outside could open (its address on the home network). Whether that URL
works is never taken on the edge's word: the tracker proves it from outside (tracker/nodes/proofs.py).

The mapped URL is kept in `<data>/mapped-url`, so every worker process (the proof answer, tus
locations) uses the one the background process announces.
"""
import ipaddress
import logging
import os
import threading
from urllib.parse import urlsplit

import miniupnpc

from .node import MAPPED_URL

log = logging.getLogger(__name__)

DISCOVERY_MS = 2000  # SSDP answers from a home router come within a few hundred ms
LEASE = 3600  # seconds; renewed at half, so a crashed edge's mapping expires by itself
DESCRIPTION = "slipstream edge"


# What a home router hands out (RFC 1918, a carrier's shared space RFC 6598, IPv6 ULA RFC 4193).
HOME_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                     "100.64.0.0/10", "fc00::/7")]


def needs_mapping(url):
    """True when `url`'s host is an address on a home network, which the router may map; a public
    address or a domain name is the operator's and is kept, and loopback (`make run`, tests) is
    reachable from this machine only."""
    try:
        address = ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:  # a domain name
        return False
    return any(address in network for network in HOME_NETWORKS)


def local_port(url):
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


class Gateway:
    """The router found by SSDP discovery; raises MappingError when there is none or it refuses."""

    def __init__(self):
        self.upnp = miniupnpc.UPnP()
        self.upnp.discoverdelay = DISCOVERY_MS
        try:
            if not self.upnp.discover():
                raise MappingError("no UPnP device answered on the local network")
            self.upnp.selectigd()
        except Exception as exc:  # miniupnpc raises a bare Exception for "no IGD found"
            raise MappingError(str(exc)) from exc

    def map(self, port):
        """Map `port` (TCP) to this host; the external port (the same one unless the router gave
        another, IGDv2's AddAnyPortMapping) and the router's external address."""
        lan = self.upnp.lanaddr
        try:
            try:
                self.upnp.addportmapping(port, "TCP", lan, port, DESCRIPTION, "", LEASE)
                external = port
            except Exception:  # noqa: BLE001 - taken by another host, or leases refused: ask for any
                external = self.upnp.addanyportmapping(port, "TCP", lan, port, DESCRIPTION, "", LEASE)
            return external, self.upnp.externalipaddress()
        except Exception as exc:
            raise MappingError(f"the router refused to map port {port}: {exc}") from exc

    def unmap(self, external):
        try:
            self.upnp.deleteportmapping(external, "TCP")
        except Exception as exc:  # noqa: BLE001 - best effort on the way out; the lease ends it anyway
            log.info("could not delete the port mapping %d: %s", external, exc)


class MappingError(Exception):
    pass


class PortMapper(threading.Thread):
    """Maps the port on start and renews it every half lease; `on_change()` (announce now) runs when
    the mapped URL appears or changes. Failures are logged: the edge goes on with its configured URL."""

    def __init__(self, node, on_change):
        super().__init__(name="edge-portmap", daemon=True)
        self.node, self.on_change = node, on_change
        self.configured = node.configured_url
        self.external = None
        self.gateway = None
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            try:
                self.gateway = self.gateway or Gateway()
                external, address = self.gateway.map(local_port(self.configured))
            except MappingError as exc:
                log.warning("no port mapping (%s); announcing %s", exc, self.configured)
                self.gateway = None
            else:
                self.external = external
                url = f"{urlsplit(self.configured).scheme}://{address}:{external}"
                if url != self.node.public_url:  # new, or the router's address changed
                    write_mapped_url(self.node, url)
                    log.info("port %d mapped by the router: announcing %s", external, url)
                    self.on_change()
            self._stop_event.wait(LEASE / 2)

    def stop(self, timeout=5):
        """Delete the mapping. The URL stays announced to the end (the announcers' `stopped` names the
        node as the tracker knows it); the next start clears it."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        if self.gateway and self.external:
            self.gateway.unmap(self.external)


def write_mapped_url(node, url):
    temporary = node.path(MAPPED_URL + ".tmp")
    with open(temporary, "w") as f:
        f.write(url)
    os.replace(temporary, node.path(MAPPED_URL))  # workers read it whole or not at all


def clear_mapped_url(node):
    try:
        os.remove(node.path(MAPPED_URL))
    except FileNotFoundError:
        pass
