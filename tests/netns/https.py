"""The public side's https: a certificate authority of the test's own (made with `cryptography`) and
nginx terminating TLS in front of the tracker, as the README's deployment puts it behind a router."""
import base64
import datetime
import hashlib
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.actions import wait_for


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Authority:
    """A throwaway CA and one server certificate per host name, written as PEM files under `folder`."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = self._sign(_name("Slipstream test CA"), self.key.public_key(), [
            x509.BasicConstraints(ca=True, path_length=0),
            x509.KeyUsage(False, False, False, False, False, True, True, False, False)])
        self.ca_file = self._write("ca.pem", self.certificate.public_bytes(serialization.Encoding.PEM))

    def _sign(self, subject, public_key, extensions):
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(_name("Slipstream test CA"))
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1)))
        for extension in extensions:
            builder = builder.add_extension(extension, critical=isinstance(extension, x509.BasicConstraints))
        return builder.sign(self.key, hashes.SHA256())

    def _write(self, name, data):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def issue(self, host):
        """(certificate file, key file, SPKI pin) for `host`; the pin is what Chromium's
        `--ignore-certificate-errors-spki-list` takes to trust exactly this key."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self._sign(_name(host), key.public_key(), [
            x509.SubjectAlternativeName([x509.DNSName(host)]),
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])])
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return (self._write(f"{host}.pem", pem + self.certificate.public_bytes(serialization.Encoding.PEM)),
                self._write(f"{host}.key", key_pem), base64.b64encode(hashlib.sha256(spki).digest()).decode())


NGINX = """daemon off;
user root;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    client_max_body_size 0;
    # WebSocket upgrades pass through (the edges' signalling connection, issue 18).
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    server {{
        listen {address}:443 ssl;
        server_name {host};
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 300s;
            proxy_buffering off;
        }}
    }}
}}
"""


def trusting(ca_file):
    """Environment for a Python process that must trust the test CA: requests reads its own bundle
    variable (it never looks at OpenSSL's), the `ssl` module's default context (websockets: the edge's
    signalling socket) reads OpenSSL's."""
    return {"REQUESTS_CA_BUNDLE": ca_file, "SSL_CERT_FILE": ca_file}


def read_lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


class Proxy:
    """nginx in `namespace`, https on port 443 of its address for `host`, passing to `upstream`."""

    def __init__(self, namespace, folder, authority, host, upstream):
        os.makedirs(folder, exist_ok=True)
        certificate, key, self.pin = authority.issue(host)
        self.url = f"https://{host}"
        self.ca_file = authority.ca_file
        self.access_log_path = os.path.join(folder, "access.log")
        config = os.path.join(folder, "nginx.conf")
        with open(config, "w") as f:
            f.write(NGINX.format(folder=folder, address=namespace.address, host=host, certificate=certificate,
                                 key=key, upstream=upstream))
        self.process = namespace.start(["nginx", "-c", config, "-p", folder], os.path.join(folder, "nginx.out"))
        wait_for(lambda: self.process.poll() is not None or namespace.run("ss", "-ltn", check=False).stdout.count(":443 "),
                 message="nginx listening")
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited: see {folder}/error.log")

    def access_log(self):
        """nginx's access log, one line a request, the client's address first."""
        return read_lines(self.access_log_path)
