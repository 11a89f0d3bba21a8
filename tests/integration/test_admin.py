"""The admin endpoint (Envoy's admin interface): /ready, /stats, /stats/prometheus, /clusters,
/config_dump, /logging, /quitquitquit."""

import json
import re
import time
import unittest

from harness import Conn, WasmgateTestCase, fill, free_port, http_request

CONFIG = r"""
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin_port }
static_resources:
  listeners:
  - name: listener_main
    address:
      socket_address: { address: 127.0.0.1, port_value: $port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: admin_test_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: service_backend }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: service_backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: service_backend
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $fault_port } } }
"""

CLUSTER = "service_backend"


class AdminTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream("fault")
        self.port = free_port()
        self.proxy = self.start_proxy(fill(CONFIG, admin_port=free_port(), port=self.port,
                                           fault_port=self.up.port), listen_ports=[self.port])

    def test_ready(self):
        """Envoy: GET /ready -> 200 "LIVE" once the server is initialized."""
        r = self.proxy.admin_get("/ready")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.text.strip(), "LIVE")

    def test_stats_counters_follow_traffic(self):
        """Envoy: /stats (`name: value` lines) has http.<stat_prefix>.downstream_rq_total,
        downstream_rq_2xx/4xx, downstream_cx_total, cluster.<name>.upstream_cx_total,
        upstream_rq_total, upstream_cx_active and listener.<address>.downstream_cx_total, and they
        move by exactly the traffic sent."""
        # Connections opened before this test (the harness's readiness probe, earlier tests) are
        # accepted and closed asynchronously: wait until none is in flight.
        # A connection still in the accept queue counts as neither: also wait until the
        # accepted total stops moving (it did once under load: 9 != 8).
        self.proxy.wait_stat("http.ingress_http.downstream_cx_active", lambda v: v == 0)
        before = self.proxy.stats()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            time.sleep(0.2)
            again = self.proxy.stats()
            settled = all(again.get(k) == before.get(k) for k in
                          ("http.ingress_http.downstream_cx_total", "http.ingress_http.downstream_cx_active"))
            before = again
            if settled and again.get("http.ingress_http.downstream_cx_active") == 0:
                break
        hp, cp, lp = "http.ingress_http.", f"cluster.{CLUSTER}.", f"listener.127.0.0.1_{self.port}."
        for name in (hp + "downstream_rq_total", hp + "downstream_rq_2xx", hp + "downstream_rq_4xx",
                     hp + "downstream_cx_total", cp + "upstream_cx_total", cp + "upstream_rq_total",
                     cp + "upstream_cx_active", lp + "downstream_cx_total"):
            self.assertIn(name, before, f"missing stat {name}")
        n_ok, n_404 = 5, 3
        for i in range(n_ok):
            self.assertEqual(http_request(self.port, "GET", f"/ok?i={i}").status, 200)
        for i in range(n_404):
            self.assertEqual(http_request(self.port, "GET", f"/missing/{i}").status, 404)  # upstream 404
        total = n_ok + n_404

        def delta(name):
            return self.proxy.stats().get(name, 0) - before.get(name, 0)

        self.proxy.wait_stat(hp + "downstream_rq_total", lambda v: v - before[hp + "downstream_rq_total"] >= total)
        self.proxy.wait_stat(hp + "downstream_rq_4xx", lambda v: v - before[hp + "downstream_rq_4xx"] >= n_404)
        self.assertEqual(delta(hp + "downstream_rq_total"), total)
        self.assertEqual(delta(hp + "downstream_rq_2xx"), n_ok)
        self.assertEqual(delta(hp + "downstream_rq_4xx"), n_404)
        self.assertEqual(delta(hp + "downstream_cx_total"), total)
        self.assertEqual(delta(lp + "downstream_cx_total"), total)
        self.assertEqual(delta(cp + "upstream_rq_total"), total)
        after = self.proxy.stats()
        self.assertGreaterEqual(after[cp + "upstream_cx_total"], 1)
        self.assertLessEqual(after[cp + "upstream_cx_total"], total)
        # The pooled (idle, kept-alive) upstream connection still counts as active.
        self.assertGreaterEqual(after[cp + "upstream_cx_active"], 1)

    def test_stats_downstream_active_gauge(self):
        """Envoy: http.<prefix>.downstream_cx_active counts open client connections."""
        # Connections of earlier tests close asynchronously: start from none.
        base = self.proxy.wait_stat("http.ingress_http.downstream_cx_active", lambda v: v == 0)
        conns = [Conn(self.port) for _ in range(3)]
        try:
            for c in conns:
                self.assertEqual(c.request("GET", "/ok").status, 200)
            v = self.proxy.wait_stat("http.ingress_http.downstream_cx_active", lambda v: v == base + 3)
            self.assertEqual(v, base + 3)
        finally:
            for c in conns:
                c.close()
        v = self.proxy.wait_stat("http.ingress_http.downstream_cx_active", lambda v: v == base)
        self.assertEqual(v, base)

    def test_stats_prometheus(self):
        """Envoy: /stats/prometheus renders counters as `envoy_`-prefixed metrics with the
        stat prefix / cluster name extracted as labels and `# TYPE ... counter` lines."""
        for i in range(2):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        self.proxy.wait_stat(f"cluster.{CLUSTER}.upstream_rq_total", lambda v: v >= 2)
        r = self.proxy.admin_get("/stats/prometheus")
        self.assertEqual(r.status, 200, r)
        text = r.text
        self.assertIn("# TYPE envoy_http_downstream_rq_total counter", text)
        m = re.search(r'^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="ingress_http"\} (\d+)$',
                      text, re.M)
        self.assertIsNotNone(m, text[:2000])
        self.assertGreaterEqual(int(m.group(1)), 2)
        m = re.search(r'^envoy_cluster_upstream_rq_total\{envoy_cluster_name="%s"\} (\d+)$' % CLUSTER, text, re.M)
        self.assertIsNotNone(m, text[:2000])
        self.assertGreaterEqual(int(m.group(1)), 2)
        self.assertRegex(text, r"(?m)^# TYPE envoy_cluster_upstream_cx_active gauge$")

    def test_clusters(self):
        """Envoy: /clusters lists per-host lines `<cluster>::<ip>:<port>::<stat>::<value>`,
        including health_flags::healthy and rq_total."""
        for i in range(3):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        time.sleep(0.1)
        r = self.proxy.admin_get("/clusters")
        self.assertEqual(r.status, 200, r)
        host = f"{CLUSTER}::127.0.0.1:{self.up.port}::"
        lines = r.text.splitlines()
        self.assertIn(host + "health_flags::healthy", lines, r.text[:2000])
        rq = [l for l in lines if l.startswith(host + "rq_total::")]
        self.assertEqual(len(rq), 1, r.text[:2000])
        self.assertGreaterEqual(int(rq[0].rsplit("::", 1)[1]), 3)

    def test_config_dump(self):
        """Envoy: /config_dump returns JSON containing the configured listener, route
        configuration and cluster names."""
        r = self.proxy.admin_get("/config_dump")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertIsInstance(doc, dict)
        text = json.dumps(doc)
        for name in ("listener_main", CLUSTER, "admin_test_route"):
            self.assertIn(name, text)

    def test_logging_level(self):
        """Envoy: POST /logging?level=debug -> 200 (all loggers changed); an unknown level is
        rejected (Envoy answers 404 with usage text; 400 also accepted)."""
        r = self.proxy.admin_post("/logging?level=debug")
        self.assertEqual(r.status, 200, r)
        r = self.proxy.admin_post("/logging?level=bogus")
        self.assertIn(r.status, (400, 404), r)
        r = self.proxy.admin_post("/logging?level=info")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)

    def test_mutating_endpoints_require_post(self):
        """Envoy: state-changing admin endpoints refuse GET (405 "Method GET not allowed, POST
        required.") so that e.g. a browser prefetch can't stop the server."""
        r = self.proxy.admin_get("/quitquitquit")
        self.assertEqual(r.status, 405, r)
        time.sleep(0.2)
        self.assertTrue(self.proxy.running(), "GET /quitquitquit stopped the server")
        r = self.proxy.admin_get("/logging?level=debug")
        self.assertEqual(r.status, 405, r)

    def test_unknown_admin_path(self):
        """Envoy: an unknown admin path -> 404."""
        r = self.proxy.admin_get("/no-such-admin-endpoint")
        self.assertEqual(r.status, 404, r)

    def test_quitquitquit(self):
        """Envoy: POST /quitquitquit -> 200 "OK" and the process exits 0 shortly after."""
        r = self.proxy.admin_post("/quitquitquit")
        self.assertEqual(r.status, 200, r)
        rc = self.proxy.wait(10)
        self.assertEqual(rc, 0, f"exit code {rc}")


if __name__ == "__main__":
    unittest.main()
