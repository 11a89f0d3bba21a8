"""Basic HTTP/1.1 proxying through wasmgate to nginx and to the Python fault upstream.

The config below is an ordinary Envoy v3 bootstrap with two listeners:
  * "edge"     (use_remote_address: true)  - an edge proxy: appends x-forwarded-for, sets
                                              x-forwarded-proto from the connection
  * "internal" (use_remote_address: false) - trusts what the client sent (keeps x-request-id)
Both route /static/, /echo-headers and exactly "/" to nginx, everything else to the fault upstream.
"""

import time
import unittest

from harness import (UUID_RE, Conn, WasmgateTestCase, build_request, fill, free_port, huge_body,
                     http_request, sha256)

CONFIG = r"""
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin_port }
static_resources:
  listeners:
  - name: edge
    address:
      socket_address: { address: 127.0.0.1, port_value: $edge_port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          use_remote_address: true
          route_config:
            name: local_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/static/" }
                route: { cluster: nginx }
              - match: { prefix: "/echo-headers" }
                route: { cluster: nginx }
              - match: { path: "/" }
                route: { cluster: nginx }
              - match: { prefix: "/" }
                # The 16 MiB streaming test must not race the default 15s route timeout on a
                # loaded CI machine; flow control, not timeouts, is what it checks.
                route: { cluster: fault, timeout: 120s }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  - name: internal
    address:
      socket_address: { address: 127.0.0.1, port_value: $internal_port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: internal_http
          route_config:
            name: internal_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/echo-headers" }
                route: { cluster: nginx }
              - match: { prefix: "/" }
                route: { cluster: fault }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: nginx
    type: STATIC
    connect_timeout: 1s
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: nginx
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: $nginx_port }
  - name: fault
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: fault
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: $fault_port }
"""


class ProxyBasicTest(WasmgateTestCase):
    def setUp(self):
        self.nginx = self.start_nginx()
        self.up = self.start_upstream("fault")
        self.port = free_port()
        self.internal_port = free_port()
        self.admin_port = free_port()
        cfg = fill(CONFIG, admin_port=self.admin_port, edge_port=self.port,
                   internal_port=self.internal_port, nginx_port=self.nginx.port, fault_port=self.up.port)
        self.proxy = self.start_proxy(cfg, listen_ports=[self.port, self.internal_port])

    def echo(self, resp):
        self.assertEqual(resp.status, 200, resp)
        return resp.json()

    # ---- plain requests -------------------------------------------------------------------

    def test_get_to_nginx(self):
        """Envoy: a GET is proxied; status, body and upstream headers come back (nginx's
        X-Upstream header is passed through)."""
        r = http_request(self.port, "GET", "/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"hello from nginx\n")
        self.assertEqual(r.header("x-upstream"), "nginx")
        self.assertEqual(r.header("content-length"), "17")

    def test_server_header_and_upstream_service_time(self):
        """Envoy: the router adds x-envoy-upstream-service-time to proxied responses, and the
        HCM overwrites the upstream's Server header with its server_name (wasmgate's default
        is "wasmgate", Envoy's is "envoy")."""
        r = http_request(self.port, "GET", "/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("server"), "wasmgate", r)
        st = r.header("x-envoy-upstream-service-time")
        self.assertIsNotNone(st, r)
        self.assertRegex(st, r"^\d+$")

    def test_head_has_no_body(self):
        """Envoy: a response to HEAD carries headers only; the connection stays usable (no
        stray body bytes that would corrupt the next response)."""
        with Conn(self.port) as c:
            r = c.request("HEAD", "/")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"")
            r2 = c.request("GET", "/")
            self.assertEqual(r2.status, 200, r2)
            self.assertEqual(r2.body, b"hello from nginx\n")

    def test_post_content_length_body(self):
        """Envoy: a request body with Content-Length is forwarded byte-exact."""
        body = b"name=wasmgate&kind=proxy&bytes=" + bytes(range(256))
        d = self.echo(http_request(self.port, "POST", "/echo", [("Content-Type", "application/x-test")], body))
        self.assertEqual(d["method"], "POST")
        self.assertEqual(d["body"].encode("latin-1"), body)
        self.assertEqual(d["headers"].get("content-type"), "application/x-test")
        self.assertEqual(d["framing"], "content-length")
        self.assertEqual(d["headers"].get("content-length"), str(len(body)))

    def test_chunked_request_body(self):
        """Envoy: a chunked request body (sent in pieces over time) arrives complete and
        correctly framed upstream (chunked or Content-Length, never both)."""
        with Conn(self.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: chunky.test\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"first,", b"second,", b"third" * 100):
                time.sleep(0.03)
                c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            c.send(b"0\r\n\r\n")
            d = self.echo(c.read_response())
        self.assertEqual(d["body"], "first,second," + "third" * 100)
        self.assertIn(d["framing"], ("chunked", "content-length"))
        h = d["headers"]
        self.assertFalse("content-length" in h and "transfer-encoding" in h, h)
        if d["framing"] == "content-length":
            self.assertEqual(h["content-length"], str(len(d["body"])))

    def test_large_request_body(self):
        """Envoy: a multi-megabyte request body streams through intact (more than the default
        1 MiB per-connection buffer limit, so it must not be buffered whole)."""
        body = huge_body(3 * 1024 * 1024 + 17)
        d = self.echo(http_request(self.port, "PUT", "/echo/upload", body=body, timeout=30))
        self.assertEqual(d["body_length"], len(body))
        self.assertEqual(sha256(d["body"].encode("latin-1")), sha256(body))

    def test_chunked_upstream_response(self):
        """Envoy: a chunked upstream response (chunks ~50 ms apart) is relayed intact."""
        r = http_request(self.port, "GET", "/chunked?n=5&delay_ms=50")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.complete)
        self.assertEqual(r.body, b"".join(b"chunk-%d\n" % i for i in range(5)))
        # Without a Content-Length from upstream the response must be chunked downstream.
        self.assertIsNone(r.header("content-length"))
        self.assertEqual((r.header("transfer-encoding") or "").lower(), "chunked")

    def test_chunked_upstream_response_with_trailers(self):
        """Envoy: with trailers from upstream (dropped or forwarded, Envoy's HTTP/1 default is to
        drop them) the body is still intact and the connection reusable."""
        with Conn(self.port) as c:
            r = c.request("GET", "/chunked?n=3&delay_ms=10&trailers=1")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"chunk-0\nchunk-1\nchunk-2\n")
            r2 = c.request("GET", "/ok")
            self.assertEqual(r2.body, b"ok\n")

    def test_large_static_file_from_nginx(self):
        """Envoy: a 5 MiB upstream response arrives byte-exact (sha256)."""
        r = http_request(self.port, "GET", "/static/large.bin", timeout=30)
        self.assertEqual(r.status, 200, r.headers)
        self.assertEqual(len(r.body), self.nginx.LARGE_SIZE)
        self.assertEqual(sha256(r.body), self.nginx.large_sha256)

    def test_huge_streamed_response(self):
        """Envoy: a 16 MiB response streams through with flow control, byte-exact."""
        n = 16 * 1024 * 1024
        r = http_request(self.port, "GET", f"/huge?bytes={n}", timeout=60)
        self.assertEqual(r.status, 200, r.headers)
        self.assertEqual(len(r.body), n)
        self.assertEqual(sha256(r.body), sha256(huge_body(n)))

    # ---- connection management -------------------------------------------------------------

    def test_keep_alive_and_upstream_reuse(self):
        """Envoy: 20 sequential requests on one client connection all succeed on that
        connection, and the upstream connection pool reuses connections (<= 2 accepted)."""
        before = self.up.accepted
        with Conn(self.port) as c:
            for i in range(20):
                r = c.request("GET", f"/ok?i={i}")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, b"ok\n")
                self.assertNotEqual((r.header("connection") or "").lower(), "close", r)
            r = c.request("GET", "/count")
            self.assertEqual(r.status, 200, r)
            count = int(r.body)
        self.assertLessEqual(count - before, 2, f"upstream accepted {count - before} connections for 21 requests")

    def test_pipelining(self):
        """Envoy: three requests written at once get three responses, in order."""
        data = b"".join(build_request("GET", f"/echo/p{i}", host="pipe.test") for i in range(3))
        with Conn(self.port) as c:
            c.send(data)
            paths = [c.read_response().json()["path"] for _ in range(3)]
        self.assertEqual(paths, ["/echo/p0", "/echo/p1", "/echo/p2"])

    def test_pipelining_mixed_with_body(self):
        """Envoy: pipelined requests with bodies are delimited correctly."""
        data = (build_request("POST", "/echo/a", body=b"AAAA", host="pipe.test")
                + build_request("POST", "/echo/b", body=[b"BB", b"BBB"], chunked=True, host="pipe.test")
                + build_request("GET", "/echo/c", host="pipe.test"))
        with Conn(self.port) as c:
            c.send(data)
            got = [c.read_response().json() for _ in range(3)]
        self.assertEqual([(d["path"], d["body"]) for d in got],
                         [("/echo/a", "AAAA"), ("/echo/b", "BBBBB"), ("/echo/c", "")])

    def test_connection_close_from_client(self):
        """Envoy: `Connection: close` from the client -> response carries `connection: close`
        and the proxy closes the connection after the response."""
        with Conn(self.port) as c:
            r = c.request("GET", "/ok", [("Connection", "close")])
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.header("connection") or "").lower(), "close", r)
            self.assertTrue(c.wait_closed(3.0), "proxy did not close the connection")

    # ---- header handling --------------------------------------------------------------------

    def test_hop_by_hop_headers_removed(self):
        """Envoy: hop-by-hop headers (Connection and the headers it nominates, Keep-Alive,
        Proxy-Connection, TE other than "trailers", Upgrade without a configured upgrade) are not
        forwarded; end-to-end headers are."""
        hdrs = [("Connection", "keep-alive, X-Foo, te"), ("X-Foo", "secret-hop"),
                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "gzip"),
                ("Upgrade", "websocket"), ("X-End-To-End", "kept")]
        d = self.echo(http_request(self.port, "GET", "/echo", hdrs))
        h = d["headers"]
        for name in ("x-foo", "keep-alive", "proxy-connection", "te", "upgrade"):
            self.assertNotIn(name, h, f"{name} was forwarded: {h}")
        self.assertNotIn("x-foo", h.get("connection", "").lower())
        self.assertEqual(h.get("x-end-to-end"), "kept")

    def test_x_forwarded_proto_added(self):
        """Envoy: x-forwarded-proto is set to the downstream scheme ("http"); on an edge
        listener (use_remote_address) a client-supplied value is overwritten."""
        d = self.echo(http_request(self.internal_port, "GET", "/echo"))
        self.assertEqual(d["headers"].get("x-forwarded-proto"), "http")
        d = self.echo(http_request(self.port, "GET", "/echo", [("X-Forwarded-Proto", "https")]))
        self.assertEqual(d["headers"].get("x-forwarded-proto"), "http")

    def test_x_request_id_generated_and_kept(self):
        """Envoy: x-request-id is generated (UUID v4 text) when absent and kept when the client
        sends one (non-edge listener, so the client's value is trusted)."""
        d = self.echo(http_request(self.internal_port, "GET", "/echo"))
        rid = d["headers"].get("x-request-id", "")
        self.assertRegex(rid, UUID_RE)
        d2 = self.echo(http_request(self.internal_port, "GET", "/echo"))
        self.assertNotEqual(d2["headers"].get("x-request-id"), rid, "request ids must be unique")
        d = self.echo(http_request(self.internal_port, "GET", "/echo", [("X-Request-Id", "my-trace-0042")]))
        self.assertEqual(d["headers"].get("x-request-id"), "my-trace-0042")

    def test_x_forwarded_for_appended(self):
        """Envoy: with use_remote_address: true the downstream address (127.0.0.1) is appended to
        x-forwarded-for (created if absent)."""
        d = self.echo(http_request(self.port, "GET", "/echo"))
        self.assertEqual(d["headers"].get("x-forwarded-for"), "127.0.0.1")
        d = self.echo(http_request(self.port, "GET", "/echo", [("X-Forwarded-For", "203.0.113.7")]))
        parts = [p.strip() for p in d["headers"].get("x-forwarded-for", "").split(",")]
        self.assertEqual(parts, ["203.0.113.7", "127.0.0.1"])

    def test_no_xff_without_use_remote_address(self):
        """Envoy: with use_remote_address: false (default) x-forwarded-for is not appended."""
        d = self.echo(http_request(self.internal_port, "GET", "/echo"))
        self.assertNotIn("x-forwarded-for", d["headers"])

    def test_forwarded_headers_seen_by_nginx(self):
        """Envoy: nginx as upstream sees the request target, Host, x-forwarded-for,
        x-request-id and x-forwarded-proto the proxy sent."""
        r = http_request(self.port, "GET", "/echo-headers/a/b?q=1", [("Host", "nginx.test")])
        self.assertEqual(r.status, 200, r)
        uri, host, xff, rid, xfp = r.text.rstrip("\n").split("|")
        self.assertEqual(uri, "/echo-headers/a/b?q=1")
        self.assertEqual(host, "nginx.test")
        self.assertEqual(xff, "127.0.0.1")
        self.assertRegex(rid, UUID_RE)
        self.assertEqual(xfp, "http")

    def test_host_forwarded(self):
        """Envoy: Host (:authority) is forwarded unchanged, port included."""
        d = self.echo(http_request(self.port, "GET", "/echo", [("Host", "My.Host.test:8080")]))
        self.assertEqual(d["headers"].get("host"), "My.Host.test:8080")
        self.assertEqual(d["path"], "/echo")

    def test_query_string_and_encoding_preserved(self):
        """Envoy: the request target (path, percent-encoding, query) is forwarded as sent."""
        d = self.echo(http_request(self.port, "GET", "/echo/a%20b/c?x=1&y=%2F&z"))
        self.assertEqual(d["path"], "/echo/a%20b/c?x=1&y=%2F&z")

    def test_expect_100_continue(self):
        """Envoy: for `Expect: 100-continue` the HCM answers `100 Continue` itself before the
        client sends the body (and strips Expect before forwarding); then the final 200."""
        body = b"hello after continue"
        with Conn(self.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: expect.test\r\nExpect: 100-continue\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body))
            interim = c.read_response(timeout=3.0, stop_at_interim=True)
            self.assertEqual(interim.status, 100, interim)
            c.send(body)
            r = c.read_response(timeout=5.0)
        d = self.echo(r)
        self.assertEqual(d["body"].encode(), body)
        self.assertNotIn("expect", d["headers"])

    def test_upstream_status_passed_through(self):
        """Envoy: upstream error statuses (404, 500, 503) are relayed as is."""
        for code in (201, 404, 500, 503):
            r = http_request(self.port, "GET", f"/status?code={code}")
            self.assertEqual(r.status, code, r)
            self.assertEqual(r.body, f"status {code}\n".encode())

    def test_204_no_body(self):
        """Envoy: a 204 from upstream is relayed without a body; the connection stays usable."""
        with Conn(self.port) as c:
            r = c.request("GET", "/status?code=204")
            self.assertEqual(r.status, 204, r)
            r2 = c.request("GET", "/ok")
            self.assertEqual(r2.body, b"ok\n")

    def test_concurrent_clients(self):
        """Envoy: many concurrent client connections are served (one worker)."""
        import threading
        results = []
        lock = threading.Lock()

        def client(i):
            try:
                with Conn(self.port) as c:
                    for j in range(5):
                        r = c.request("GET", f"/echo/{i}/{j}")
                        ok = r.status == 200 and r.json()["path"] == f"/echo/{i}/{j}"
                        with lock:
                            results.append(ok)
            except Exception as e:  # noqa: BLE001 - recorded as failure
                with lock:
                    results.append(repr(e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(results.count(True), 100, [r for r in results if r is not True][:5])


if __name__ == "__main__":
    unittest.main()
