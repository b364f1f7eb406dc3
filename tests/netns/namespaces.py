"""One Linux network namespace: run a command in it, start a process in it, or call a Python function
from inside it (a thread that entered the namespace), so a test's own `requests` go through its links."""
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import threading

CLONE_NEWNET = 0x40000000  # <sched.h>; Python 3.11's os module has no setns (3.12 does)
NETNS_DIR = "/var/run/netns"
OURS = re.compile(r"ss(\d+)x[0-9a-f]+-")  # every namespace a run makes is named ss<pid>x<token>-<role>


class Namespace:
    def __init__(self, name, address=None):
        self.name, self.address = name, address
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.processes = []

    def command(self, argv):
        """`argv` as run inside this namespace (`ip netns exec` execs it, so the process id is its own)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv, check=True):
        done = subprocess.run(self.command(argv), check=False, capture_output=True, text=True)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(argv)} in {self.name} failed ({done.returncode}): {done.stderr}")
        return done

    def start(self, argv, log_path):
        """A long-running process in this namespace, in its own process group, output to the file
        `log_path`; killed at teardown whatever the test did."""
        with open(log_path, "ab") as log:
            process = subprocess.Popen(self.command(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def traffic(self, device):
        """(bytes received, bytes sent) by `device` in this namespace, as the kernel counts them."""
        stats = json.loads(self.run("ip", "-j", "-s", "link", "show", "dev", device).stdout)[0]["stats64"]
        return stats["rx"]["bytes"], stats["tx"]["bytes"]

    def call(self, function, *args, **kwargs):
        """`function(*args, **kwargs)` on a new thread that entered this namespace: sockets it opens are
        the namespace's. The thread ends with the call, so the switch never leaks into the test's own."""
        outcome = {}

        def inside():
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(os.path.join(NETNS_DIR, self.name), os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET):
                    raise OSError(ctypes.get_errno(), f"setns into {self.name}")
            finally:
                os.close(fd)
            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread below
                outcome["error"] = error

        thread = threading.Thread(target=inside, name=f"in {self.name}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def delete(self):
        """Kill every process still inside (ours or any they started), then the namespace: its links and
        iptables rules go with it."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        kill_all_inside(self.name)
        subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)


def kill_all_inside(name):
    pids = subprocess.run(["ip", "netns", "pids", name], check=False, capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def sweep_orphans():
    """Delete namespaces left by a test run that was killed before its teardown (its pid is gone), so
    a machine never fills up with them; a live run's are never touched."""
    for name in os.listdir(NETNS_DIR) if os.path.isdir(NETNS_DIR) else ():
        owner = OURS.match(name)
        if owner and not os.path.exists(f"/proc/{owner.group(1)}"):
            kill_all_inside(name)
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
            shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)
