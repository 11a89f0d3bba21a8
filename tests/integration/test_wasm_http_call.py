"""proxy_http_call through the real binary with the http_auth example plugin
(examples/plugins/http_auth): every request is held while the plugin asks an authorization
cluster (nginx's /auth/check: 200 for "Bearer good", else 403).

  * allowed requests reach the upstream, denied ones get 403 and never reach it, on V8 and on the
    null runtime, with two workers and concurrent clients;
  * an authorization cluster that refuses connections (503 from the callout) or answers too late
    (the callout's timeout: 504) makes the plugin fail closed with 503;
  * a cluster name the proxy does not have is BadArgument: the plugin answers 503;
  * a client that goes away while its callout is in flight cancels it: the slow authorization
    server sees its peer close;
  * a request waiting on its callout during a config reload completes on its plugin;
  * (data/callout_args.wat) a call without :path and one to an unknown cluster are BadArgument,
    and two calls in flight for one stream both answer before the stream resumes.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import WasmgateTestCase, fill, free_port, http_request, wait_until

PLUGINS = os.environ.get("WASMGATE_PLUGINS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "build", "plugins"))

CONFIG = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin_port}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: auth
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: backend}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: http_auth
                vm_config: {runtime: $runtime, code: {local: $code}}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"cluster": "$auth_cluster", "path": "$auth_path", "timeout_ms": $timeout_ms}'
                $extra
          - name: envoy.filters.http.router
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $backend_port}}}}]}]
  - name: auth
    connect_timeout: 1s
    load_assignment:
      cluster_name: auth
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $auth_port}}}}]}]
"""


class HttpCallTest(WasmgateTestCase):
    def start(self, native=False, auth_port=None, auth_cluster="auth", auth_path="/auth/check",
              timeout_ms=2000, concurrency=1, extra="fail_open: false"):
        if native:
            runtime, code = "envoy.wasm.runtime.null", "{inline_string: http_auth}"
        else:
            wasm = os.path.abspath(os.path.join(PLUGINS, "http_auth.wasm"))
            if not os.path.exists(wasm):
                self.fail(f"{wasm} is missing: run scripts/build-plugins.sh")
            runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % wasm
        self.backend = self.start_upstream()
        if auth_port is None:
            auth_port = self.start_nginx().port
        self.port = free_port()
        return self.start_proxy(fill(CONFIG, admin_port=free_port(), port=self.port,
                                     backend_port=self.backend.port, auth_port=auth_port,
                                     auth_cluster=auth_cluster, auth_path=auth_path,
                                     timeout_ms=timeout_ms, runtime=runtime, code=code,
                                     extra="$extra").replace("$extra", extra),
                                concurrency=concurrency)

    def check_allow_and_deny(self, native):
        self.start(native=native, concurrency=2)

        def one(i):
            token = "good" if i % 2 == 0 else "bad"
            return token, http_request(self.port, "GET", "/echo?i=%d" % i,
                                       headers={"authorization": "Bearer " + token})
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(one, range(24)))
        for token, r in results:
            if token == "good":
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["headers"].get("authorization"), "Bearer good")
            else:
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.body, b"forbidden\n")
        r = http_request(self.port, "GET", "/echo")  # no credentials at all
        self.assertEqual(r.status, 403, r)
        # Only the allowed requests reached the backend.
        self.assertEqual(len(self.backend.non_health_requests()), 12)

    def test_allow_and_deny_v8(self):
        self.check_allow_and_deny(native=False)

    def test_allow_and_deny_null_runtime(self):
        self.check_allow_and_deny(native=True)

    def test_auth_service_down_fails_closed(self):
        self.start(auth_port=free_port())  # nothing listens there
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.body, b"authorization unavailable\n")
        self.assertEqual(self.backend.non_health_requests(), [])

    def test_callout_timeout_fails_closed(self):
        slow = self.start_upstream()
        self.start(auth_port=slow.port, auth_path="/slow?ms=3000", timeout_ms=200)
        started = time.monotonic()
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})
        self.assertEqual(r.status, 503, r)
        self.assertLess(time.monotonic() - started, 2.5)

    def test_request_waiting_on_a_callout_survives_a_reload(self):
        """A stream paused in a callout keeps its plugin across a config reload: the callout
        answer arrives and the request goes on; the old plugin goes afterwards."""
        import json
        import threading
        slow = self.start_upstream()
        p = self.start(auth_port=slow.port, auth_path="/slow?ms=800", timeout_ms=5000)
        result = {}
        t = threading.Thread(target=lambda: result.setdefault(
            "r", http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})))
        t.start()
        self.assertTrue(slow.wait_for(lambda u: u.requests_to("/slow"), timeout=5))
        self.assertEqual(p.admin_post("/reload").status, 200)
        t.join(timeout=10)
        self.assertEqual(result["r"].status, 200, result["r"])
        self.assertEqual(len(self.backend.non_health_requests()), 1)
        self.assertTrue(wait_until(lambda: len(json.loads(p.admin_get("/wasm").body)) == 1, timeout=5))

    def test_unknown_cluster_is_bad_argument(self):
        p = self.start(auth_cluster="no_such_cluster")
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})
        self.assertEqual(r.status, 503, r)
        wait_until(lambda: "BadArgument" in p.logs())

    def test_bad_arguments_and_two_calls_in_flight(self):
        tmp = tempfile.mkdtemp(prefix="wg-callout-")
        self.addCleanup(shutil.rmtree, tmp, True)
        wasm = os.path.join(tmp, "callout_args.wasm")
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([shutil.which("wat2wasm") or "/usr/bin/wat2wasm",
                        os.path.join(here, "data", "callout_args.wat"), "-o", wasm],
                       check=True, timeout=30)
        backend = self.start_upstream()
        port = free_port()
        config = fill(CONFIG, admin_port=free_port(), port=port, backend_port=backend.port,
                      auth_port=backend.port, auth_cluster="x", auth_path="/", timeout_ms=1,
                      runtime="envoy.wasm.runtime.v8", code="{filename: %s}" % wasm, extra="fail_open: false")
        config = config.replace("name: http_auth", "name: callout_args").replace("route: {cluster: backend}", "route: {cluster: up}")
        config = config.replace("  - name: backend\n", "  - name: up\n").replace("cluster_name: backend", "cluster_name: up")
        self.start_proxy(config)
        r = http_request(port, "GET", "/echo/main")
        self.assertEqual(r.status, 200, r)
        seen = r.json()["headers"]
        self.assertEqual(seen.get("x-bad-args"), "ok")
        self.assertEqual(seen.get("x-callouts"), "2")
        routes = sorted(x.route for x in backend.non_health_requests())
        self.assertEqual(routes, ["/echo/main", "/echo/one", "/echo/two"])

    def stat(self, p, name):
        for line in p.admin_request("GET", "/stats").body.decode().splitlines():
            if line.startswith(name + ": "):
                return int(line.split(": ")[1])
        return None

    def test_hidden_header_is_invisible_to_the_plugin(self):
        """hidden_headers: the plugin cannot read Authorization, so it cannot forward it to the
        authorization service: even good credentials are denied; the upstream still gets the
        header (it is hidden from the plugin, not removed)."""
        self.start(extra="hidden_headers: [Authorization]")
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})
        self.assertEqual(r.status, 403, r)

    def test_callout_allowlist(self):
        """allowed_http_call_clusters: a callout elsewhere is refused (BadArgument, as an unknown
        cluster) and counted."""
        p = self.start(extra="allowed_http_call_clusters: [backend]")
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer good"})
        self.assertEqual(r.status, 503, r)
        self.assertEqual(self.stat(p, "wasm.http_auth.capability_denied"), 1)

    def test_capability_restriction(self):
        """capability_restriction_config without proxy_on_request_headers: that callback never
        runs (as in Envoy), so nothing is checked and the request goes through."""
        self.start(extra="capability_restriction_config: {allowed_capabilities: {proxy_log: {}, "
                         "proxy_on_context_create: {}, proxy_get_property: {}}}")
        r = http_request(self.port, "GET", "/echo", headers={"authorization": "Bearer bad"})
        self.assertEqual(r.status, 200, r)

    def test_client_going_away_cancels_the_callout(self):
        slow = self.start_upstream()
        self.start(auth_port=slow.port, auth_path="/slow?ms=3000", timeout_ms=10000)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n")
        wait_until(lambda: len(slow.requests) + len(slow.cancelled) >= 1 or slow.accepted >= 1)
        time.sleep(0.2)
        s.close()
        # The slow authorization server notices its peer (the proxy's callout) going away.
        wait_until(lambda: len(slow.cancelled) == 1, timeout=5)
        self.assertEqual(self.backend.non_health_requests(), [])


if __name__ == "__main__":
    unittest.main()
