"""Third-party SDK conformance: AssemblyScript plugins built from npm packages
(@solo-io/proxy-runtime with assemblyscript 0.14, @gcoredev/proxy-wasm-sdk-as with assemblyscript
0.28; scripts/build-conformance.sh) run unchanged through the real binary. Every case of
tests/conformance/expected.json: add a header, send a local response, read the configuration,
call out to a cluster (metrics, shared data), hold a request until a timer tick releases it
(set_effective_context + continue from proxy_on_tick), relay a request through a shared queue
(register/resolve/enqueue, then dequeue + set_effective_context + continue from
proxy_on_queue_ready), and configurations the plugin rejects.
"""

import json
import os
import subprocess
import unittest

from harness import Proxy, WasmgateTestCase, free_port, http_request, to_yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("WASMGATE_CONFORMANCE", os.path.join(ROOT, "tests", "conformance", "build"))
with open(os.path.join(ROOT, "tests", "conformance", "expected.json")) as f:
    SPEC = json.load(f)

STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue"


def bootstrap(case, port, admin_port, up_port):
    plugin = case["plugin"]
    vm = dict(plugin["vm_config"])
    vm_cfg = vm.pop("configuration", None)
    vm["code"] = {"local": {"filename": os.path.join(BUILD, case["wasm"])}}
    if vm_cfg is not None:
        vm["configuration"] = {"@type": STRING_VALUE, "value": vm_cfg}
    cfg = {k: v for k, v in plugin.items() if k not in ("vm_config", "configuration")}
    cfg["vm_config"] = vm
    if plugin.get("configuration") is not None:
        cfg["configuration"] = {"@type": STRING_VALUE, "value": plugin["configuration"]}
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "ingress_http",
        "route_config": {"virtual_hosts": [{"name": "vh", "domains": ["*"],
                                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "up"}}]}]},
        "http_filters": [
            {"name": "envoy.filters.http.wasm",
             "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                              "config": cfg}},
            {"name": "envoy.filters.http.router",
             "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
        ],
    }
    doc = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
        "static_resources": {
            "listeners": [{"name": "l", "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                           "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                           "typed_config": hcm}]}]}],
            "clusters": [{"name": "up", "connect_timeout": "1s", "load_assignment": {
                "cluster_name": "up", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": "127.0.0.1", "port_value": up_port}}}}]}]}}],
        },
    }
    return to_yaml(doc)


class ConformanceTest(WasmgateTestCase):
    def run_case(self, case):
        wasm = os.path.join(BUILD, case["wasm"])
        self.assertTrue(os.path.exists(wasm), f"{wasm} is missing: run scripts/build-conformance.sh")
        up = self.start_upstream()
        port = free_port()
        config = bootstrap(case, port, free_port(), up.port)
        expect = case["expect"]
        if expect["load"] != "ok":
            # Envoy rejects the configuration: so does a validate run, naming the plugin.
            p = Proxy(config, extra_args=["--mode", "validate"])
            with open(p.config_path, "w") as f:
                f.write(config)
            res = subprocess.run(p.command(), capture_output=True, text=True, timeout=60)
            self.assertEqual(res.returncode, 1, res)
            self.assertIn("plugin '%s'" % case["plugin"]["name"], res.stderr)
            return
        proxy = self.start_proxy(config)
        req = case["request"]
        r = http_request(port, req["method"], req["path"], headers=req.get("headers") or None)
        self.assertEqual(r.status, expect["status"], r)
        for name, value in expect.get("response_headers", {}).items():
            self.assertEqual(r.header(name), value, f"{name} in {r!r}")
        for name in expect.get("response_headers_absent", []):
            self.assertIsNone(r.header(name), f"{name} in {r!r}")
        if "body" in expect:
            self.assertEqual(r.body.decode("latin-1"), expect["body"])
        called = any(rec.route.startswith("/echo") for rec in up.requests_to(req["path"].split("?")[0])) or \
            bool(up.non_health_requests())
        self.assertEqual(called, expect["upstream_called"])
        if expect.get("upstream_request_headers"):
            seen = r.json()["headers"]
            for name, value in expect["upstream_request_headers"].items():
                self.assertEqual(seen.get(name), value, f"upstream saw {seen}")
        if expect.get("stats"):
            stats = proxy.admin_request("GET", "/stats").body.decode().splitlines()
            for name, value in expect["stats"].items():
                self.assertIn(f"{name}: {value}", stats)


def _make(case):
    def test(self):
        self.run_case(case)
    test.__doc__ = f"{case['name']}: {case.get('description', '')}"
    return test


for _case in SPEC["cases"]:
    setattr(ConformanceTest, "test_" + _case["name"].replace(".", "_"), _make(_case))


if __name__ == "__main__":
    unittest.main()
