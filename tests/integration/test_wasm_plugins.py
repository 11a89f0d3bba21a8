"""Proxy-Wasm plugins through the real binary: the C++ SDK examples (built by
scripts/build-plugins.sh into $WASMGATE_PLUGINS, default build/plugins) on V8, configured exactly
as Envoy's envoy.filters.http.wasm, in front of the fault upstream.

Checks: a plugin adds a configured header; a regex path rewrite is what the upstream sees; a body
plugin buffers and redacts the response body; a plugin whose configuration is rejected stops a
validate run with an error naming the plugin; a module that is not Wasm gives a clear load error.
The same plugin sources also run natively on the null runtime (runtime: envoy.wasm.runtime.null,
code.local.inline_string: <plugin name>), and an unknown native plugin is a clear error.
"""

import os
import subprocess
import unittest

from harness import WasmgateTestCase, free_port, fill, Proxy

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
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: backend}
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: $name
                root_id: $root_id
                vm_config:
                  vm_id: $name
                  runtime: $runtime
                  code: {local: $code}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '$configuration'
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}
"""


def plugin_path(name):
    return os.path.abspath(os.path.join(PLUGINS, name + ".wasm"))


class WasmPluginTest(WasmgateTestCase):
    def setUp(self):
        for name in ("add_header", "path_rewrite", "body_redact"):
            if not os.path.exists(plugin_path(name)):
                self.fail(f"{plugin_path(name)} is missing: run scripts/build-plugins.sh")
        self.up = self.start_upstream()
        self.port = free_port()

    def config(self, name, root_id, configuration, wasm=None, native=False):
        if native:
            runtime, code = "envoy.wasm.runtime.null", "{inline_string: %s}" % name
        else:
            runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % (wasm or plugin_path(name))
        return fill(CONFIG, admin_port=free_port(), port=self.port, up_port=self.up.port, name=name,
                    root_id=root_id, runtime=runtime, code=code, configuration=configuration)

    def test_add_header(self):
        """The seed's add_header plugin: the configured header is added to the response, and with
        "to": "both" to the request the upstream sees."""
        from harness import http_request
        self.start_proxy(self.config("add_header", "add_header_root_id",
                                     '{"name": "x-hello", "value": "wasmgate", "to": "both"}'))
        r = http_request(self.port, "GET", "/echo")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-hello"), "wasmgate")
        self.assertEqual(r.json()["headers"].get("x-hello"), "wasmgate")

    def test_path_rewrite(self):
        """The seed's regex path rewrite: /api/v1/<rest> reaches the upstream as /v2/<rest>."""
        from harness import http_request
        self.start_proxy(self.config("path_rewrite", "",
                                     '{"rewrites": [{"pattern": "^/api/v1/(.*)", "replacement": "/echo/v2/$1"}]}'))
        r = http_request(self.port, "GET", "/api/v1/users?id=7")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/v2/users?id=7")

    def test_body_redact(self):
        """A body plugin: the response body is buffered until the end and a literal is redacted."""
        from harness import http_request
        self.start_proxy(self.config("body_redact", "",
                                     '{"literals": ["secret-token"], "replacement": "[REDACTED]"}'))
        r = http_request(self.port, "POST", "/echo", body=b"before secret-token after")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"secret-token", r.body)
        self.assertIn(b"[REDACTED]", r.body)

    def test_add_header_on_the_null_runtime(self):
        """The add_header source compiled into the binary (null runtime) acts as its .wasm does."""
        from harness import http_request
        self.start_proxy(self.config("add_header", "add_header_root_id",
                                     '{"name": "x-hello", "value": "native", "to": "both"}',
                                     native=True))
        for _ in range(3):
            r = http_request(self.port, "GET", "/echo")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("x-hello"), "native")
            self.assertEqual(r.json()["headers"].get("x-hello"), "native")

    def test_body_redact_on_the_null_runtime(self):
        """A buffering body plugin on the null runtime."""
        from harness import http_request
        self.start_proxy(self.config("body_redact", "",
                                     '{"literals": ["secret-token"], "replacement": "[N]"}',
                                     native=True))
        r = http_request(self.port, "POST", "/echo", body=b"before secret-token after")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"secret-token", r.body)
        self.assertIn(b"[N]", r.body)

    def test_unknown_native_plugin(self):
        """A null-runtime name that is not linked in is a load error listing what the build has."""
        res = self._validate(self.config("no_such_plugin", "", "{}", native=True))
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("no native (null runtime) plugin named 'no_such_plugin'", res.stderr)
        self.assertIn("add_header", res.stderr)

    def _validate(self, config_text):
        p = Proxy(config_text, extra_args=["--mode", "validate"])
        with open(p.config_path, "w") as f:
            f.write(config_text)
        return subprocess.run(p.command(), capture_output=True, text=True, timeout=60)

    def test_rejected_configuration_is_a_startup_error(self):
        """proxy_on_configure returning false stops a validate run, naming the plugin."""
        res = self._validate(self.config("add_header", "add_header_root_id", '{"nmae": "typo"}'))
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("plugin 'add_header': proxy_on_configure returned false", res.stderr)

    def test_not_a_wasm_module(self):
        """A file that is not Wasm is a load error naming the plugin and the file."""
        bogus = os.path.join(self.up_tmp(), "bogus.wasm")
        with open(bogus, "wb") as f:
            f.write(b"this is not wasm")
        res = self._validate(self.config("add_header", "add_header_root_id", "{}", wasm=bogus))
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("plugin 'add_header': cannot load file '%s'" % bogus, res.stderr)

    def up_tmp(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="wg-wasm-")
        self.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        return d


if __name__ == "__main__":
    unittest.main()
