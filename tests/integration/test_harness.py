"""Self-tests of the integration harness (no wasmgate needed): nginx upstream, FaultUpstream,
the raw HTTP client, the YAML builder and the Proxy process wrapper (against a stand-in
process). If these fail, the rig is broken, not the proxy."""

import os
import shutil
import sys
import tempfile
import time
import unittest

import harness
from harness import (Conn, FaultUpstream, Nginx, Proxy, ProxyStartError, build_request, free_port,
                     http_request, parse_responses, raw_exchange, sha256)


class NginxTest(unittest.TestCase):
    def test_nginx_serves(self):
        with Nginx() as n:
            r = http_request(n.port, "GET", "/")
            self.assertEqual((r.status, r.body, r.header("x-upstream")), (200, b"hello from nginx\n", "nginx"))
            r = http_request(n.port, "GET", "/echo-headers/x?y=1", [("Host", "h.test"), ("X-Forwarded-For", "1.2.3.4"),
                                                                    ("X-Request-Id", "rid")])
            self.assertEqual(r.text, "/echo-headers/x?y=1|h.test|1.2.3.4|rid|\n")
            r = http_request(n.port, "GET", "/static/large.bin", timeout=30)
            self.assertEqual(len(r.body), Nginx.LARGE_SIZE)
            self.assertEqual(sha256(r.body), n.large_sha256)
            with Conn(n.port) as c:  # keep-alive
                for _ in range(3):
                    self.assertEqual(c.request("GET", "/").status, 200)
            tmp, proc = n.tmpdir, n.proc
        self.assertIsNotNone(proc.poll(), "nginx still running after stop()")
        self.assertFalse(os.path.exists(tmp))


class FaultUpstreamTest(unittest.TestCase):
    def setUp(self):
        self.u = FaultUpstream("t").start()
        self.addCleanup(self.u.stop)

    def test_ok_keepalive_and_count(self):
        with Conn(self.u.port) as c:
            for _ in range(3):
                r = c.request("GET", "/ok")
                self.assertEqual((r.status, r.body), (200, b"ok\n"))
            self.assertEqual(c.request("GET", "/count").body, b"1")
        self.assertEqual(self.u.accepted, 1)
        self.assertEqual(len(self.u.requests), 4)

    def test_echo_content_length_and_chunked(self):
        d = http_request(self.u.port, "POST", "/echo/x?q=1", [("X-A", "1"), ("X-A", "2")], b"hello").json()
        self.assertEqual((d["method"], d["path"], d["body"], d["framing"]), ("POST", "/echo/x?q=1", "hello",
                                                                              "content-length"))
        self.assertEqual(d["headers"]["x-a"], "1, 2")
        d = http_request(self.u.port, "POST", "/echo", body=[b"ab", b"cde"], chunked=True).json()
        self.assertEqual((d["body"], d["framing"]), ("abcde", "chunked"))

    def test_expect_continue(self):
        with Conn(self.u.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            self.assertEqual(c.read_response(stop_at_interim=True, timeout=2).status, 100)
            c.send(b"hi")
            self.assertEqual(c.read_response().json()["body"], "hi")

    def test_chunked_response(self):
        r = http_request(self.u.port, "GET", "/chunked?n=3&delay_ms=10&trailers=1")
        self.assertTrue(r.chunked)
        self.assertEqual(r.body, b"chunk-0\nchunk-1\nchunk-2\n")
        self.assertEqual(r.trailers, [("x-trailer", "done")])

    def test_slow_and_cancel(self):
        t0 = time.monotonic()
        self.assertEqual(http_request(self.u.port, "GET", "/slow?ms=200").status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)
        c = Conn(self.u.port)
        c.send_request("GET", "/slow?ms=5000")
        self.assertTrue(self.u.wait_for(lambda u: u.requests_to("/slow")[1:], timeout=2))
        c.close()
        self.assertTrue(self.u.wait_for(lambda u: u.cancelled, timeout=2))

    def test_reset_and_close_mid_body(self):
        self.assertEqual(raw_exchange(self.u.port, build_request("GET", "/reset")), b"")
        with Conn(self.u.port) as c:
            r = c.request("GET", "/close-mid-body")
            self.assertEqual((r.status, r.complete, r.body), (200, False, b"0123456789"))

    def test_huge_status_malformed_health(self):
        r = http_request(self.u.port, "GET", "/huge?bytes=100000")
        self.assertEqual(r.body, harness.huge_body(100000))
        self.assertEqual(http_request(self.u.port, "GET", "/status?code=418").status, 418)
        raw = raw_exchange(self.u.port, build_request("GET", "/malformed"))
        self.assertTrue(raw.startswith(b"HTTP/1.1 2x0"))
        self.u.health_status = 503
        self.assertEqual(http_request(self.u.port, "GET", "/healthz").status, 503)

    def test_pipelining_and_close(self):
        raw = raw_exchange(self.u.port, b"".join(build_request("GET", p) for p in ("/ok", "/echo", "/ok?close=1")))
        rs = parse_responses(raw)
        self.assertEqual([r.status for r in rs], [200, 200, 200])
        self.assertEqual(rs[2].header("connection"), "close")


class BuilderTest(unittest.TestCase):
    def test_yaml_roundtrip_if_pyyaml_available(self):
        text = harness.envoy_yaml(10000, 9901, [1, 2], route_extra={"timeout": "0.5s"},
                                  cluster_extra={"circuit_breakers": {"thresholds": [{"max_connections": 1}]}})
        self.assertIn('"@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager'
                      '.v3.HttpConnectionManager', text)
        self.assertEqual(harness._admin_port_from_config(text), 9901)
        try:
            import yaml  # not required by the tests; only used here when present
        except ImportError:
            self.skipTest("PyYAML not installed")
        doc = yaml.safe_load(text)
        self.assertEqual(doc["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]
                         ["lb_endpoints"][1]["endpoint"]["address"]["socket_address"]["port_value"], 2)
        self.assertEqual(doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
                         ["typed_config"]["route_config"]["virtual_hosts"][0]["domains"], ["*"])

    def test_literal_configs_parse_if_pyyaml_available(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML not installed")
        import test_admin, test_config_cli, test_faults, test_http_errors, test_proxy_basic, test_routing
        ports = {k: 1000 + i for i, k in enumerate(
            ["admin_port", "port", "edge_port", "internal_port", "nginx_port", "fault_port", "closed_port",
             "a_port", "b_port", "upstream_port", "up"])}
        texts = [
            harness.fill(test_proxy_basic.CONFIG, **ports),
            harness.fill(test_routing.CONFIG, **ports),
            harness.fill(test_routing.NO_WILDCARD_CONFIG, **ports),
            harness.fill(test_faults.CONFIG, **ports),
            harness.fill(test_faults.HC_CONFIG, **ports),
            harness.fill(test_http_errors.CONFIG, **ports),
            harness.fill(test_http_errors.BUFFER_FILTER_CONFIG, **ports),
            harness.fill(test_admin.CONFIG, **ports),
            test_config_cli.good_config(1, 2, 3),
        ]
        for t in texts:
            doc = yaml.safe_load(t)
            self.assertIn("static_resources", doc)
            self.assertEqual(doc["admin"]["address"]["socket_address"]["port_value"],
                             harness._admin_port_from_config(t))
        rx = yaml.safe_load(texts[1])["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
            "typed_config"]["route_config"]["virtual_hosts"][5]["routes"]
        rr = [r for r in rx if r["match"].get("prefix") == "/rx/"][0]["route"]["regex_rewrite"]
        self.assertEqual(rr, {"pattern": {"regex": "^/rx/([0-9]+)/(.*)$"}, "substitution": "/echo/\\2/\\1"})


FAKE_PROXY = r"""
import signal, socket, sys, threading
admin = int(sys.argv[sys.argv.index("--admin") + 1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", admin)); s.listen(16)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("fake proxy up", flush=True)
while True:
    c, _ = s.accept()
    req = c.recv(65536).decode()
    path = req.split(" ")[1]
    body = {"/ready": "LIVE\n", "/stats": "a.b: 1\nc.d: 22\nh: P0(nan,nan)\n"}.get(path, "")
    c.sendall(("HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n%s" % (200 if body else 404, len(body), body)).encode())
    c.close()
"""


class ProxyWrapperTest(unittest.TestCase):
    def test_start_stats_stop(self):
        tmp = tempfile.mkdtemp(prefix="wg-fake-")
        self.addCleanup(shutil.rmtree, tmp, True)
        script = os.path.join(tmp, "fake.py")
        with open(script, "w") as f:
            f.write(FAKE_PROXY)
        admin = free_port()
        # Use python as the "binary": Proxy passes -c <config> ..., so wrap in a shell-less shim.
        shim = os.path.join(tmp, "shim")
        with open(shim, "w") as f:
            f.write(f"#!/bin/sh\nexec {sys.executable} {script} --admin {admin} \"$@\"\n")
        os.chmod(shim, 0o755)
        p = Proxy("admin: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}\n" % admin,
                  binary=shim)
        self.assertEqual(p.admin_port, admin)
        p.start(timeout=5)
        self.assertEqual(p.stats(), {"a.b": 1, "c.d": 22})
        self.assertEqual(p.stop(), 0)
        self.assertIn("fake proxy up", p.stdout())
        p.cleanup()

    def test_start_failure_reports_output(self):
        tmp = tempfile.mkdtemp(prefix="wg-fake-")
        self.addCleanup(shutil.rmtree, tmp, True)
        shim = os.path.join(tmp, "shim")
        with open(shim, "w") as f:
            f.write("#!/bin/sh\necho 'static_resources.clusters[0].x: boom' >&2\nexit 1\n")
        os.chmod(shim, 0o755)
        p = Proxy("admin: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}\n" % free_port(),
                  binary=shim)
        with self.assertRaises(ProxyStartError) as cm:
            p.start(timeout=5)
        self.assertIn("boom", str(cm.exception))
        p.cleanup()


if __name__ == "__main__":
    unittest.main()
