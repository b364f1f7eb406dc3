"""A real UPnP-IGD (and NAT-PMP) gateway: Debian's miniupnpd in a NAT namespace, on its nftables backend
in a table of its own (the NAT's masquerade and firewall stay iptables rules, tests/netns/internet.py)."""
import os
import uuid

from tests.actions import wait_for

# miniupnpd adds its DNAT and filter rules to these chains; it does not create them.
NFT = """table inet miniupnpd {
    chain forward { type filter hook forward priority 0; policy accept; jump forward_miniupnpd; }
    chain forward_miniupnpd { }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain prerouting_miniupnpd { }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
    chain postrouting_miniupnpd { }
}
"""

CONFIG = """ext_ifname=wan
listening_ip=lan
port=5000
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
system_uptime=yes
lease_file={folder}/leases
uuid={uuid}
upnp_table_name=miniupnpd
upnp_nat_table_name=miniupnpd
upnp_forward_chain=forward_miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 {lan} 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
"""


class Gateway:
    """miniupnpd serving the home LAN `lan` (e.g. 192.168.1.0/24) of `nat`; its own pid file, so two
    runs (each with its own namespaces) never see each other's daemon as "already running"."""

    def __init__(self, nat, folder, lan):
        os.makedirs(folder, exist_ok=True)
        self.nat, self.folder = nat, folder
        rules = os.path.join(folder, "miniupnpd.nft")
        with open(rules, "w") as f:
            f.write(NFT)
        nat.run("nft", "-f", rules)
        config = os.path.join(folder, "miniupnpd.conf")
        with open(config, "w") as f:
            f.write(CONFIG.format(folder=folder, uuid=uuid.uuid4(), lan=lan))
        self.process = nat.start(["miniupnpd", "-d", "-f", config, "-P", os.path.join(folder, "miniupnpd.pid")],
                                 os.path.join(folder, "miniupnpd.log"))
        wait_for(lambda: self.process.poll() is not None or ":5000 " in nat.run("ss", "-ltn", check=False).stdout,
                 message="miniupnpd listening")
        if self.process.poll() is not None:
            raise RuntimeError(f"miniupnpd exited: {self.log()}")

    def log(self):
        with open(os.path.join(self.folder, "miniupnpd.log"), errors="replace") as f:
            return f.read()

    def redirects(self):
        """miniupnpd's DNAT rules as nft lists them (one line per mapped port)."""
        listing = self.nat.run("nft", "list", "chain", "inet", "miniupnpd", "prerouting_miniupnpd").stdout
        return [line.strip() for line in listing.splitlines() if "dnat" in line]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
