"""A private PostgreSQL server for the tests: its own data dir and loopback port, stopped at the end."""
import glob
import os
import pwd
import subprocess
import tempfile

from tests.servers import free_port


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed; `make test` installs it with apt-get")
    return found[-1]


def as_postgres(args):
    """PostgreSQL refuses to run as root; run its tools as the `postgres` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + args
    return args


class PostgresServer:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="slipstream-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = free_port()
        self.url = f"postgresql://slipstream@127.0.0.1:{self.port}/slipstream"

    def start(self):
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        subprocess.run(as_postgres([pg_bin("initdb"), "-D", self.data, "-U", "slipstream",
                                    "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True)
        subprocess.run(as_postgres([
            pg_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.root, "log"), "-w", "start",
            # Loopback only, no unix socket outside our dir, fsync off: a throwaway test server.
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=200",
        ]), check=True, capture_output=True)
        subprocess.run(as_postgres([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                    "-U", "slipstream", "slipstream"]), check=True, capture_output=True)
        return self

    def new_database(self, name):
        """A fresh empty database on this server; returns its URL."""
        subprocess.run(as_postgres([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                    "-U", "slipstream", name]), check=True, capture_output=True)
        return f"postgresql://slipstream@127.0.0.1:{self.port}/{name}"

    def stop(self):
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        subprocess.run(["rm", "-rf", self.root], check=False)
