"""benchmarks/nginx/coio-stream.conf: nginx's stream proxy in front of two coio-servers."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from string import Template

import pytest

from tests.stress.probe import echo_rtts, welcomed
from tests.support import count_phrase, need_tool, running_server, wait_until

pytestmark = pytest.mark.stress

CONF = Path(__file__).resolve().parents[2] / "benchmarks" / "nginx" / "coio-stream.conf"
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")


def test_nginx_stream_config_spreads_clients_over_backends(tmp_path: Path) -> None:
    """Through the shipped nginx config, 40 clients get banner and echoes from both backends."""
    need_tool("nginx", "nginx-light libnginx-mod-stream")
    need_tool("nginx's stream module", "libnginx-mod-stream", path=str(STREAM_MODULE))
    with running_server() as one, running_server() as two:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            listen = probe.getsockname()[1]
        servers = "\n".join(f"        server 127.0.0.1:{s.port};" for s in (one, two))
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            Template(CONF.read_text()).substitute(
                prefix=tmp_path, servers=servers, listen=f"127.0.0.1:{listen}"
            )
        )
        nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf)])
        try:
            assert wait_until(lambda: _accepts(listen), 10)
            clients = [welcomed(("127.0.0.1", listen)) for _ in range(40)]
            for sock in clients:
                echo_rtts(sock, 2, b"via nginx\n")
            for sock in clients:
                sock.close()
        finally:
            nginx.terminate()
            assert nginx.wait(10) == 0

        # The servers' log lines leave through a writer thread: wait for all 40 to arrive.
        def served_by_each() -> list[int]:
            return [count_phrase(s.log(), "connect id=") for s in (one, two)]

        wait_until(lambda: sum(served_by_each()) >= 40, 10)
        served = served_by_each()
    print(f"\nclients per backend through nginx: {served}")
    assert sum(served) >= 40
    assert min(served) >= 10  # least_conn spreads them


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
