"""A small internet in network namespaces: a public segment (the tracker's host and a viewer), and two
homes, each behind its own NAT router (iptables MASQUERADE, no port forwarded, unsolicited inbound
dropped), as in issue 18's tests.

    home1 (192.168.1.2) -- nat1 (lan 192.168.1.1 | wan PUBLIC.11) --+
    home2 (192.168.2.2) -- nat2 (lan 192.168.2.1 | wan PUBLIC.12) --+-- public (PUBLIC.1, bridge)
                                              viewer (PUBLIC.2) ----+

Nothing is linked to the machine's own namespace, so no packet leaves it and two runs (or the same
addresses used twice) cannot meet. Names (`tracker.test`, ...) resolve through /etc/netns/<ns>/hosts,
which `ip netns exec` mounts over /etc/hosts, and for Chromium through `--host-resolver-rules`.
"""
import ipaddress
import os
import secrets
import shutil
import subprocess

import pytest

from tests.netns.dns import NameServer
from tests.netns.namespaces import Namespace, sweep_orphans

# miniupnpd refuses to map ports on a WAN address in a private or reserved range (a router behind
# another NAT cannot be reached anyway), so the public side gets addresses outside them: nothing here
# is linked to a real network, so they never meet their owners.
PUBLIC = ipaddress.ip_network("20.0.0.0/24")
TOOLS = {"ip": "iproute2", "iptables": "iptables", "nginx": "nginx", "chromium": "chromium", "miniupnpd": "miniupnpd"}


def require_root_and_tools():
    """Fail (never skip) with what is missing: `make test` installs all of it."""
    if os.geteuid() != 0:
        pytest.fail("the network-namespace tests must run as root (ip netns, iptables); run `make test` as root")
    missing = [package for tool, package in TOOLS.items() if not shutil.which(tool)]
    if missing:
        pytest.fail(f"missing Debian packages {' '.join(missing)}: `make test` installs them (make test-deps)")


class Internet:
    def __init__(self, workdir, symmetric=()):
        """`symmetric`: names of the NATs ("nat1", "nat2") that map every new destination to a fresh
        random port (`--random-fully`: RFC 4787's address-and-port-dependent mapping) instead of
        keeping one mapping per inside port (endpoint-independent, MASQUERADE's default)."""
        require_root_and_tools()
        sweep_orphans()
        self.workdir = workdir
        self.prefix = f"ss{os.getpid()}x{secrets.token_hex(3)}"
        self.namespaces = {}
        self.names = {}  # host name -> address, for every namespace's hosts file and for Chromium
        try:
            self._build(set(symmetric))
        except BaseException:
            self.close()
            raise

    def public_address(self, host):
        return str(PUBLIC.network_address + host)

    def _namespace(self, role, address):
        self.namespaces[role] = Namespace(f"{self.prefix}-{role}", address)
        self.names[f"{role}.test"] = address
        return self.namespaces[role]

    def _link(self, a, a_name, b, b_name):
        subprocess.run(["ip", "link", "add", a_name, "netns", a.name, "type", "veth",
                        "peer", "name", b_name, "netns", b.name], check=True, capture_output=True)

    def _build(self, symmetric):
        public = self._namespace("public", self.public_address(1))
        self.names["tracker.test"] = public.address
        public.run("ip", "link", "set", "lo", "up")
        public.run("ip", "link", "add", "br0", "type", "bridge")
        public.run("ip", "addr", "add", f"{public.address}/{PUBLIC.prefixlen}", "dev", "br0")
        public.run("ip", "link", "set", "br0", "up")
        self._attach(self._namespace("viewer", self.public_address(2)), "wan")
        for n in (1, 2):
            nat = self._namespace(f"nat{n}", self.public_address(10 + n))
            self._attach(nat, "wan")
            home = self._namespace(f"home{n}", f"192.168.{n}.2")
            self._link(nat, "lan", home, "eth0")
            nat.run("ip", "addr", "add", f"192.168.{n}.1/24", "dev", "lan")
            nat.run("ip", "link", "set", "lan", "up")
            home.run("ip", "link", "set", "lo", "up")
            home.run("ip", "addr", "add", f"{home.address}/24", "dev", "eth0")
            home.run("ip", "link", "set", "eth0", "up")
            home.run("ip", "route", "add", "default", "via", f"192.168.{n}.1")
            self._route(nat, f"nat{n}" in symmetric)
        self._write_hosts()
        self.dns = NameServer(public, self.names)

    def _attach(self, namespace, device):
        """Plug `namespace` into the public bridge, with the public router as its default route; the
        bridge's port for it, in the public namespace, is named for its role (`nat1`, `viewer`), so
        `internet["public"].traffic("nat1")` counts what the tracker's side exchanged with that home."""
        public = self.namespaces["public"]
        self._link(public, namespace.name.rsplit("-", 1)[1], namespace, device)
        public.run("ip", "link", "set", namespace.name.rsplit("-", 1)[1], "master", "br0", "up")
        namespace.run("ip", "link", "set", "lo", "up")
        namespace.run("ip", "addr", "add", f"{namespace.address}/{PUBLIC.prefixlen}", "dev", device)
        namespace.run("ip", "link", "set", device, "up")
        namespace.run("ip", "route", "add", "default", "via", public.address)

    @staticmethod
    def _route(nat, symmetric):
        nat.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        nat.run("iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE",
                *(["--random-fully"] if symmetric else []))
        # A home router's firewall: from outside only answers to what the home opened, and what a
        # port mapping (miniupnpd's DNAT) lets in; nothing new for the router itself either. That last
        # one matters to hole punching: a peer's packet arriving before the home's own first one would
        # otherwise be taken in by the router, and the conntrack entry it leaves makes MASQUERADE give
        # the home's packets another port (measured: no data channel even between two
        # endpoint-independent NATs); dropped, it leaves no entry.
        for chain, allowed in (("FORWARD", "ESTABLISHED,RELATED,DNAT"), ("INPUT", "ESTABLISHED,RELATED")):
            nat.run("iptables", "-A", chain, "-i", "wan", "-m", "conntrack", "--ctstate", allowed, "-j", "ACCEPT")
            nat.run("iptables", "-A", chain, "-i", "wan", "-j", "DROP")

    def _write_hosts(self):
        """Each namespace's /etc/hosts and /etc/resolv.conf (the public side's DNS server, tests/netns/dns.py)."""
        lines = "127.0.0.1 localhost\n" + "".join(f"{address} {name}\n" for name, address in self.names.items())
        for namespace in self.namespaces.values():
            folder = f"/etc/netns/{namespace.name}"
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "hosts"), "w") as f:
                f.write(lines)
            with open(os.path.join(folder, "resolv.conf"), "w") as f:
                f.write(f"nameserver {self.namespaces['public'].address}\n")

    def __getitem__(self, role):
        return self.namespaces[role]

    def resolver_rules(self):
        """Chromium's `--host-resolver-rules` value: the same names, without a DNS server."""
        return ",".join(f"MAP {name} {address}" for name, address in self.names.items())

    def close(self):
        if getattr(self, "dns", None):
            self.dns.close()
        for namespace in reversed(list(self.namespaces.values())):
            namespace.delete()
            shutil.rmtree(f"/etc/netns/{namespace.name}", ignore_errors=True)
