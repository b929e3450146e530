"""TLS a gate can trust (issue 15), for real: ``gate-server`` behind Debian's nginx with a
certificate this test makes; the back office prints the certificate's pin and the enrollment
link; a gate enrolled with it syncs through nginx, and refuses the server once nginx presents
another certificate, unless that one was pinned too (a certificate change)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scanner_app.cli import main as gate_scanner
from scanner_app.config import TerminalConfig
from scanner_app.replica import Replica
from scanner_app.sync_loop import SyncLoop, SyncState
from shared.pinning import EnrollmentLink, spki_pin
from sync_server import admin_cli
from tests.support.postgres import free_port
from tests.support.server import RunningServer
from tests.support.site import Site

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="Debian's nginx is not installed (make system-deps)"
)


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a site's own would be."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"gates-{name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Nginx:
    """Debian's nginx on a free port, TLS in front of the server, as docs/deploy.md sets it."""

    def __init__(self, folder: Path, upstream: int) -> None:
        self.folder, self.upstream = folder, upstream
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, cert: Path, key: Path) -> None:
        self.stop()
        conf = self.folder / "nginx.conf"
        temp = self.folder / "temp"
        temp.mkdir(exist_ok=True)
        conf.write_text(f"""
daemon off;
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{self.port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{self.upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
    }}
}}
""")
        self.process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.folder)],
                                        stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {(self.folder / 'error.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def nginx(server: RunningServer, tmp_path: Path) -> Iterator[Nginx]:
    proxy = Nginx(tmp_path, server.port)
    yield proxy
    proxy.stop()


def test_a_gate_enrolled_with_a_pin_syncs_through_nginx_and_refuses_another_certificate(
    server: RunningServer, nginx: Nginx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = Site.create(server)
    first, first_key = certificate(tmp_path, "first")
    second, second_key = certificate(tmp_path, "second")
    nginx.start(first, first_key)
    admin = ["--server", server.url, "--token", server.tokens["admin"]]
    qr = tmp_path / "enroll.png"
    assert admin_cli.main([*admin, "gate", "enroll-code", site.venue, "NORD-1",
                           "--gate-url", nginx.url, "--qr", str(qr)]) == 0  # fmt: skip
    said = capsys.readouterr().out
    pin = spki_pin(first.read_bytes())
    assert f"server pin: {pin} (the certificate {nginx.url} presents" in said
    assert qr.read_bytes().startswith(b"\x89PNG")
    link = next(line.split(": ", 1)[1] for line in said.splitlines()
                if line.startswith("enrollment link: "))  # fmt: skip
    assert EnrollmentLink.parse(link).pins == (pin,)

    config_path = tmp_path / "gate" / "gate.toml"
    assert gate_scanner(["enroll", "--link", link, "--config", str(config_path)]) == 0
    config = TerminalConfig.load(config_path)
    assert config.server == nginx.url and config.server_pins == [pin]
    assert SyncLoop(config).run(once=True).state is SyncState.ONLINE  # through nginx, pinned

    nginx.start(second, second_key)  # someone else's certificate on the way (or a new one)
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.OFFLINE
    assert "is not one this gate enrolled with" in status.last_error
    with Replica(config.replica_path) as replica:
        assert replica.get_meta("server_epoch")  # nothing of the refused server was taken

    # A certificate change: the new pin is given to the gate beside the old one.
    config.server_pins = [pin, spki_pin(second.read_bytes())]
    config.save()
    assert SyncLoop(TerminalConfig.load(config_path)).run(once=True).state is SyncState.ONLINE


def test_an_enrollment_with_the_wrong_pin_is_refused_before_any_code_is_sent(
    server: RunningServer, nginx: Nginx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = Site.create(server)
    cert, key = certificate(tmp_path, "site")
    other, _ = certificate(tmp_path, "other")
    nginx.start(cert, key)
    code = site.admin.post(f"/venues/{site.venue}/gates/SUD-1/enrollment").json()["code"]
    config_path = tmp_path / "gate" / "gate.toml"
    wrong = spki_pin(other.read_bytes())
    status = gate_scanner(["enroll", "--server", nginx.url, "--code", code, "--pin", wrong,
                           "--config", str(config_path)])  # fmt: skip
    assert status != 0
    assert "is not one this gate enrolled with" in capsys.readouterr().err
    assert not config_path.exists()
    # The code was never shown to that server: it still enrolls the right one.
    good = ["enroll", "--server", nginx.url, "--code", code, "--pin",
            spki_pin(cert.read_bytes()), "--config", str(config_path)]  # fmt: skip
    assert gate_scanner(good) == 0
