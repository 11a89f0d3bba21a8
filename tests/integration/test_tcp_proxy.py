"""envoy.filters.network.tcp_proxy and envoy.filters.network.wasm through the real binary.

  * bytes are relayed both ways to an echo server, with half-close: a client that shuts down
    its sending side still receives everything the upstream sends back;
  * HTTP to nginx works through the TCP proxy;
  * an upstream that refuses connections closes the client connection; idle_timeout closes an
    idle one; Envoy's tcp.<stat_prefix>.* and the cluster's upstream_cx_* stats count it all;
  * the tcp_rewrite example plugin (examples/plugins/tcp_rewrite) in front of tcp_proxy rewrites
    what the upstream sends, counts bytes in its own metrics and logs the close, on V8 and on the
    null runtime;
  * a config reload leaves open sessions on the plugin configuration they started with.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import WasmgateTestCase, fill, free_port, wait_until

PLUGINS = os.environ.get("WASMGATE_PLUGINS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "build", "plugins"))

CONFIG = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin_port}}
static_resources:
  listeners:
  - name: tcp
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
$wasm_filter
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tp
          cluster: up
          idle_timeout: $idle_timeout
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""

WASM_FILTER = """\
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: tcp_rewrite
            vm_config: {runtime: $runtime, code: {local: $code}}
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: '{"from": "hello", "to": "HOWDY"}'"""


class EchoServer:
    """Echoes every byte; after the client's FIN, sends its FIN too."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    c.shutdown(socket.SHUT_WR)
                    return
                c.sendall(data)

    def close(self):
        self._stop = True
        self.sock.close()


def recv_all(s, timeout=5):
    s.settimeout(timeout)
    out = b""
    while True:
        data = s.recv(65536)
        if not data:
            return out
        out += data


class TcpProxyTest(WasmgateTestCase):
    def start(self, up_port=None, idle_timeout="3600s", wasm=None, wasm_file=None):
        if up_port is None:
            self.echo = EchoServer()
            self.addCleanup(self.echo.close)
            up_port = self.echo.port
        self.port = free_port()
        wasm_filter = ""
        if wasm is not None:
            if wasm_file is not None:
                runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % wasm_file
            elif wasm == "null":
                runtime, code = "envoy.wasm.runtime.null", "{inline_string: tcp_rewrite}"
            else:
                path = os.path.abspath(os.path.join(PLUGINS, "tcp_rewrite.wasm"))
                if not os.path.exists(path):
                    self.fail(f"{path} is missing: run scripts/build-plugins.sh")
                runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % path
            wasm_filter = fill(WASM_FILTER, runtime=runtime, code=code)
            wasm_filter = "\n".join("      " + l if l.strip() else l
                                    for l in wasm_filter.splitlines())
        config = fill(CONFIG, admin_port=free_port(), port=self.port, up_port=up_port,
                      idle_timeout=idle_timeout, wasm_filter="$wasm_filter")
        return self.start_proxy(config.replace("$wasm_filter", wasm_filter))

    def stats(self, p):
        out = {}
        for line in p.admin_request("GET", "/stats").body.decode().splitlines():
            name, _, value = line.partition(": ")
            if value.isdigit():
                out[name] = int(value)
        return out

    def test_relay_with_half_close(self):
        p = self.start()
        payload = os.urandom(300000)
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)  # the upstream must still get to answer
        self.assertEqual(recv_all(s), payload)
        s.close()
        wait_until(lambda: self.stats(p).get("listener.127.0.0.1_%d.downstream_cx_active" % self.port) == 0)
        st = self.stats(p)
        self.assertEqual(st["tcp.tp.downstream_cx_total"], 1)
        self.assertEqual(st["tcp.tp.downstream_cx_rx_bytes_total"], len(payload))
        self.assertEqual(st["tcp.tp.downstream_cx_tx_bytes_total"], len(payload))
        self.assertEqual(st["cluster.up.upstream_cx_total"], 1)
        self.assertEqual(st["cluster.up.upstream_cx_active"], 0)

    def test_http_through_tcp_proxy(self):
        nginx = self.start_nginx()
        self.start(up_port=nginx.port)
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = recv_all(s)
        self.assertTrue(response.startswith(b"HTTP/1.1 200"), response[:100])
        self.assertIn(b"hello from nginx", response)

    def test_upstream_refusing_closes_the_client(self):
        p = self.start(up_port=free_port())
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"anything")
        self.assertEqual(recv_all(s), b"")
        wait_until(lambda: self.stats(p).get("cluster.up.upstream_cx_connect_fail") == 1)

    def test_idle_timeout(self):
        p = self.start(idle_timeout="0.3s")
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"ping")
        s.settimeout(5)
        self.assertEqual(s.recv(100), b"ping")
        started = time.monotonic()
        self.assertEqual(recv_all(s), b"")  # closed by the proxy, not by us
        self.assertLess(time.monotonic() - started, 3)
        wait_until(lambda: self.stats(p).get("tcp.tp.idle_timeout") == 1)

    def check_rewrite(self, wasm):
        p = self.start(wasm=wasm)
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"hello world, hello again")
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(recv_all(s), b"HOWDY world, HOWDY again")
        s.close()
        wait_until(lambda: "tcp_rewrite: connection closed by the client after 24 bytes in, "
                           "24 bytes out" in p.logs())
        st = self.stats(p)
        self.assertEqual(st["wasmcustom.tcp_rewrite_downstream_bytes_total"], 24)
        self.assertEqual(st["wasmcustom.tcp_rewrite_upstream_bytes_total"], 24)

    def test_reload_keeps_open_sessions_on_their_chain(self):
        """A config reload: an open TCP session keeps relaying through the plugin it started
        with; new connections get the new plugin configuration; the old plugin is released when
        its last session ends."""
        import json
        p = self.start(wasm="v8")
        old = socket.create_connection(("127.0.0.1", self.port))
        old.settimeout(5)
        old.sendall(b"hello")
        self.assertEqual(old.recv(100), b"HOWDY")
        with open(p.config_path) as f:
            text = f.read()
        with open(p.config_path, "w") as f:
            f.write(text.replace('"to": "HOWDY"', '"to": "HEYA!"'))
        self.assertEqual(p.admin_post("/reload").status, 200)
        new = socket.create_connection(("127.0.0.1", self.port))
        new.settimeout(5)
        new.sendall(b"hello")
        self.assertEqual(new.recv(100), b"HEYA!")
        old.sendall(b"hello")
        self.assertEqual(old.recv(100), b"HOWDY")
        self.assertEqual(len(json.loads(p.admin_get("/wasm").body)), 2)
        old.close()
        self.assertTrue(wait_until(lambda: len(json.loads(p.admin_get("/wasm").body)) == 1, timeout=5))
        new.sendall(b"hello")
        self.assertEqual(new.recv(100), b"HEYA!")
        new.close()

    def test_pause_resume_and_close(self):
        tmp = tempfile.mkdtemp(prefix="wg-tcp-")
        self.addCleanup(shutil.rmtree, tmp, True)
        wasm = os.path.join(tmp, "tcp_pause.wasm")
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([shutil.which("wat2wasm") or "/usr/bin/wat2wasm",
                        os.path.join(here, "data", "tcp_pause.wat"), "-o", wasm], check=True, timeout=30)
        self.start(wasm="v8", wasm_file=wasm)
        # Paused at accept: nothing reaches the echo server until a tick resumes the connection.
        s = socket.create_connection(("127.0.0.1", self.port))
        started = time.monotonic()
        s.sendall(b"ping!!")
        s.settimeout(5)
        self.assertEqual(s.recv(100), b"ping!!")
        self.assertGreater(time.monotonic() - started, 0.02)
        s.close()
        # Five bytes make the plugin close the connection: no echo, just the close.
        c = socket.create_connection(("127.0.0.1", self.port))
        time.sleep(0.2)  # let a tick resume it first
        c.sendall(b"close")
        self.assertEqual(recv_all(c), b"")

    def test_wasm_network_filter_v8(self):
        self.check_rewrite("v8")

    def test_wasm_network_filter_null_runtime(self):
        self.check_rewrite("null")


if __name__ == "__main__":
    unittest.main()
