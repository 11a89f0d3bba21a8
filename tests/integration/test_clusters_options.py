"""Cluster discovery types and load balancing, and connection-manager options and timeouts.

  * STRICT_DNS / LOGICAL_DNS clusters resolve "localhost" (from /etc/hosts, no network) and
    proxy to it.
  * ROUND_ROBIN alternates hosts, RANDOM and LEAST_REQUEST spread over all of them.
  * HCM timeouts: request_headers_timeout closes a connection that never finishes its
    headers; stream_idle_timeout answers 408 on a stalled request body; request_timeout
    answers 408 when the request is not complete in time.
  * HTTP/1.0 is refused with 426 unless http_protocol_options.accept_http_10 (Envoy default).
  * normalize_path / merge_slashes rewrite the path the upstream sees.
"""

import collections
import time
import unittest

from harness import (Conn, WasmgateTestCase, bootstrap, cluster, free_port, http_connection_manager,
                     http_request, listener, raw_exchange, route_to, status_of, to_yaml, virtual_host)


def _one_listener(port, admin_port, clusters, routes, **hcm_extra):
    hcm = http_connection_manager([virtual_host("vh", ["*"], routes)], **hcm_extra)
    return to_yaml(bootstrap([listener(port, hcm)], clusters, admin_port))


class DnsClusterTest(WasmgateTestCase):
    """Envoy: STRICT_DNS uses every resolved address, LOGICAL_DNS the first one."""

    def test_strict_and_logical_dns(self):
        up = self.start_upstream("dns-up")
        port = free_port()
        clusters = []
        for name, kind in (("strict", "STRICT_DNS"), ("logical", "LOGICAL_DNS")):
            c = cluster(name, [("localhost", up.port)], dns_lookup_family="V4_ONLY", dns_refresh_rate="0.5s")
            c["type"] = kind
            clusters.append(c)
        routes = [route_to("strict", "/strict/", prefix_rewrite="/"),
                  route_to("logical", "/logical/", prefix_rewrite="/")]
        p = self.start_proxy(_one_listener(port, free_port(), clusters, routes))
        for path in ("/strict/ok", "/logical/ok"):
            r = http_request(port, "GET", path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("x-upstream-name"), "dns-up")
        # The DNS refresh keeps running and keeps the host.
        n = p.wait_stat("cluster.strict.update_success", lambda v: v >= 1, timeout=5)
        self.assertGreaterEqual(n, 1)
        self.assertEqual(http_request(port, "GET", "/strict/ok").status, 200)
        clusters_out = p.admin_get("/clusters").text
        self.assertIn("strict::127.0.0.1:%d::hostname::localhost" % up.port, clusters_out)

    def test_unresolvable_name_fails_validation(self):
        """A name that does not resolve is a startup error naming the cluster."""
        c = cluster("nowhere", [("no-such-host.invalid", 80)])
        c["type"] = "STRICT_DNS"
        from harness import Proxy
        p = Proxy(_one_listener(free_port(), free_port(), [c], [route_to("nowhere")]),
                  extra_args=["--mode", "validate"])
        import subprocess
        with open(p.config_path, "w") as f:
            f.write(p.config)
        res = subprocess.run(p.command(), capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("static_resources.clusters[0] (nowhere): cannot resolve 'no-such-host.invalid'",
                      res.stderr)


class LoadBalancingTest(WasmgateTestCase):
    def _spread(self, policy, n=60):
        ups = [self.start_upstream(f"up{i}") for i in range(3)]
        port = free_port()
        c = cluster("pool", [u.port for u in ups], lb_policy=policy)
        self.start_proxy(_one_listener(port, free_port(), [c], [route_to("pool")]))
        seen = collections.Counter()
        with Conn(port) as conn:
            for _ in range(n):
                r = conn.request("GET", "/ok")
                self.assertEqual(r.status, 200, r)
                seen[r.header("x-upstream-name")] += 1
        return seen

    def test_round_robin_alternates(self):
        """ROUND_ROBIN: sequential requests cycle through the hosts evenly."""
        seen = self._spread("ROUND_ROBIN")
        self.assertEqual(sorted(seen.values()), [20, 20, 20], seen)

    def test_random_uses_every_host(self):
        seen = self._spread("RANDOM")
        self.assertEqual(len(seen), 3, seen)

    def test_least_request_uses_every_host(self):
        seen = self._spread("LEAST_REQUEST")
        self.assertEqual(len(seen), 3, seen)


class TimeoutTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream()
        self.port = free_port()

    def _proxy(self, **hcm_extra):
        c = cluster("backend", [self.up.port])
        return self.start_proxy(_one_listener(self.port, free_port(), [c], [route_to("backend")], **hcm_extra))

    def test_request_headers_timeout_closes_connection(self):
        """Envoy: request_headers_timeout bounds the time to receive the request headers."""
        p = self._proxy(request_headers_timeout="0.3s")
        with Conn(self.port) as c:
            c.send(b"GET /ok HTTP/1.1\r\nHost: x\r\n")  # never finished
            self.assertTrue(c.wait_closed(timeout=3), "connection still open")
        self.assertGreaterEqual(p.wait_stat("http.ingress_http.downstream_rq_header_timeout", lambda v: v >= 1), 1)

    def test_stream_idle_timeout_answers_408(self):
        """Envoy: a stream with no activity for stream_idle_timeout gets 408 (no response yet)."""
        p = self._proxy(stream_idle_timeout="0.4s")
        with Conn(self.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            start = time.monotonic()
            r = c.read_response(timeout=5)
            self.assertEqual(r.status, 408, r)
            self.assertLess(time.monotonic() - start, 3)
        self.assertGreaterEqual(p.stat("http.ingress_http.downstream_rq_idle_timeout"), 1)

    def test_request_timeout_answers_408(self):
        """Envoy: request_timeout bounds the time to receive the whole request."""
        p = self._proxy(request_timeout="0.5s")
        with Conn(self.port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            for _ in range(5):  # keep the stream active, but never complete it
                time.sleep(0.2)
                try:
                    c.send(b"x")
                except OSError:
                    break
            r = c.read_response(timeout=5)
            self.assertEqual(r.status, 408, r)
        self.assertGreaterEqual(p.stat("http.ingress_http.downstream_rq_timeout"), 1)


class ProtocolOptionsTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream()
        self.port = free_port()

    def _proxy(self, **hcm_extra):
        c = cluster("backend", [self.up.port])
        return self.start_proxy(_one_listener(self.port, free_port(), [c], [route_to("backend")], **hcm_extra))

    def test_http10_refused_by_default(self):
        """Envoy: HTTP/1.0 requests get 426 Upgrade Required unless accept_http_10."""
        self._proxy()
        raw = raw_exchange(self.port, b"GET /ok HTTP/1.0\r\nHost: x\r\n\r\n")
        self.assertEqual(status_of(raw), 426, raw)

    def test_http10_accepted_with_default_host(self):
        """accept_http_10 + default_host_for_http_10: a Host-less HTTP/1.0 request is served and
        the connection closes after the response (no keep-alive asked for)."""
        self._proxy(http_protocol_options={"accept_http_10": True, "default_host_for_http_10": "legacy.local"})
        raw = raw_exchange(self.port, b"GET /echo HTTP/1.0\r\n\r\n", timeout=5)
        self.assertEqual(status_of(raw), 200, raw)
        self.assertIn(b"HTTP/1.0 200", raw[:20])
        self.assertIn(b"legacy.local", raw)

    def test_normalize_path_and_merge_slashes(self):
        """normalize_path removes dot segments and merge_slashes collapses '//' before routing
        and forwarding; the query is untouched."""
        self._proxy(normalize_path=True, merge_slashes=True)
        r = http_request(self.port, "GET", "//echo/./b/..//c?x=//y")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/c?x=//y")


if __name__ == "__main__":
    unittest.main()
