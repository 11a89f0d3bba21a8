"""Command line and configuration loading: --mode validate, config error messages with the path
of the offending field, --config-yaml, JSON configs, TypedStruct-wrapped typed_config, legacy
filter names, --concurrency and access logs."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (WasmgateTestCase, bootstrap, cluster, fill,
                     free_port, http_connection_manager, http_request, listener, port_accepting,
                     route_to, to_yaml, virtual_host, wait_until, wasmgate_bin)

GOOD = r"""
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin_port }
static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address: { address: 127.0.0.1, port_value: $port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: $route_cluster }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: service
    $timeout_key: $timeout_value
    type: STATIC
    lb_policy: $lb_policy
    load_assignment:
      cluster_name: service
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: $upstream_port }
"""


def good_config(port, admin_port, upstream_port, **over):
    values = dict(port=port, admin_port=admin_port, upstream_port=upstream_port, route_cluster="service",
                  timeout_key="connect_timeout", timeout_value="0.25s", lb_policy="ROUND_ROBIN")
    values.update(over)
    return fill(GOOD, **values)


def run_wasmgate(args, timeout=15):
    """Runs the binary to completion (bounded); returns (exit code, stdout + stderr)."""
    try:
        p = subprocess.run([wasmgate_bin()] + args, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"wasmgate {' '.join(args)} did not exit within {timeout}s; output: "
                             f"{(e.stdout or b'')[-2000:]!r} {(e.stderr or b'')[-2000:]!r}")
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


class ValidateModeTest(WasmgateTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wg-cli-")
        self.port = free_port()
        self.admin_port = free_port()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text, name="envoy.yaml"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def validate(self, text, name="envoy.yaml"):
        return run_wasmgate(["--mode", "validate", "-c", self.write(text, name)])

    def test_validate_good_config(self):
        """Envoy: `--mode validate -c good.yaml` exits 0 without serving (the listener and admin
        ports are never bound)."""
        cfg = good_config(self.port, self.admin_port, free_port())
        path = self.write(cfg)
        p = subprocess.Popen([wasmgate_bin(), "--mode", "validate", "-c", path], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        bound = False
        deadline = time.monotonic() + 15
        while p.poll() is None and time.monotonic() < deadline:
            bound = bound or port_accepting(self.port, timeout=0.05) or port_accepting(self.admin_port, timeout=0.05)
            time.sleep(0.01)
        if p.poll() is None:
            p.kill()
            p.wait(5)
            self.fail("validate mode did not exit")
        out = p.stdout.read().decode("utf-8", "replace")
        p.stdout.close()
        self.assertEqual(p.returncode, 0, out)
        self.assertFalse(bound, "validate mode opened a listening port")
        self.assertIn("OK", out)

    def assert_invalid(self, text, *needles, name="envoy.yaml"):
        rc, out = self.validate(text, name)
        self.assertEqual(rc, 1, f"exit code {rc}, output:\n{out}")
        for n in needles:
            self.assertIn(n, out)
        return out

    def test_unknown_field(self):
        """Envoy: an unknown field is an error naming its path
        (static_resources.clusters[0].conect_timeout)."""
        cfg = good_config(self.port, self.admin_port, free_port(), timeout_key="conect_timeout")
        self.assert_invalid(cfg, "static_resources.clusters[0].conect_timeout")

    def test_unsupported_lb_policy(self):
        """Envoy-valid but unsupported by wasmgate: `lb_policy: MAGLEV` is rejected with
        `static_resources.clusters[0].lb_policy: unsupported value MAGLEV`."""
        cfg = good_config(self.port, self.admin_port, free_port(), lb_policy="MAGLEV")
        self.assert_invalid(cfg, "static_resources.clusters[0].lb_policy: unsupported value MAGLEV")

    def test_bad_duration(self):
        """Envoy: a duration must be like "1.5s"; "5 seconds" is an error at its path."""
        cfg = good_config(self.port, self.admin_port, free_port(), timeout_value='"5 seconds"')
        self.assert_invalid(cfg, "static_resources.clusters[0].connect_timeout")

    def test_unknown_cluster_in_route(self):
        """Envoy: a route naming a cluster that doesn't exist fails validation ("route: unknown
        cluster ..." in Envoy), naming the cluster."""
        cfg = good_config(self.port, self.admin_port, free_port(), route_cluster="no_such_cluster")
        self.assert_invalid(cfg, "no_such_cluster")

    def test_yaml_syntax_error(self):
        """Envoy: YAML that doesn't parse -> exit 1."""
        self.assert_invalid("static_resources: {listeners: [\n  - name: x\n")

    def test_missing_config_file(self):
        """Envoy: a config path that doesn't exist -> exit 1 with the path in the message."""
        missing = os.path.join(self.tmp, "does-not-exist.yaml")
        rc, out = run_wasmgate(["--mode", "validate", "-c", missing])
        self.assertEqual(rc, 1, out)
        self.assertIn("does-not-exist.yaml", out)

    def test_validate_json_config(self):
        """Envoy: a .json config file is accepted."""
        doc = bootstrap([listener(self.port, http_connection_manager([virtual_host("v", ["*"], [route_to("c")])]))],
                        [cluster("c", [free_port()])], self.admin_port)
        rc, out = self.validate(json.dumps(doc, indent=2), name="envoy.json")
        self.assertEqual(rc, 0, out)


class ServingConfigTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream("fault")
        self.port = free_port()
        self.admin_port = free_port()

    def assert_proxying(self, port=None):
        r = http_request(port or self.port, "GET", "/echo/check")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/check")

    def test_config_yaml_inline(self):
        """Envoy: `--config-yaml '<yaml>'` alone supplies the whole bootstrap."""
        cfg = good_config(self.port, self.admin_port, self.up.port)
        self.start_proxy(None, admin_port=self.admin_port, extra_args=["--config-yaml", cfg],
                         listen_ports=[self.port])
        self.assert_proxying()

    def test_json_config_file(self):
        """Envoy: a JSON bootstrap file works (JSON is the same schema as YAML)."""
        doc = bootstrap([listener(self.port, http_connection_manager([virtual_host("v", ["*"], [route_to("c")])]))],
                        [cluster("c", [self.up.port])], self.admin_port)
        self.start_proxy(json.dumps(doc, indent=2), config_suffix=".json", listen_ports=[self.port])
        self.assert_proxying()

    def test_builder_yaml(self):
        """The harness's YAML builder output (block style, quoted "@type") loads."""
        doc = bootstrap([listener(self.port, http_connection_manager([virtual_host("v", ["*"], [route_to("c")])]))],
                        [cluster("c", [self.up.port])], self.admin_port)
        self.start_proxy(to_yaml(doc), listen_ports=[self.port])
        self.assert_proxying()

    def test_typed_struct_wrapper(self):
        """Envoy: typed_config given as a TypedStruct (udpa.type.v1 and xds.type.v3) whose
        type_url names the real message and whose value holds its fields."""
        cfg = fill(r"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: $admin_port } }
        static_resources:
          listeners:
          - name: ts
            address: { socket_address: { address: 127.0.0.1, port_value: $port } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  value:
                    stat_prefix: ingress_http
                    route_config:
                      virtual_hosts:
                      - name: all
                        domains: ["*"]
                        routes:
                        - match: { prefix: "/" }
                          route: { cluster: service }
                    http_filters:
                    - name: envoy.filters.http.router
                      typed_config:
                        "@type": type.googleapis.com/xds.type.v3.TypedStruct
                        type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                        value: {}
          clusters:
          - name: service
            connect_timeout: 1s
            type: STATIC
            load_assignment:
              cluster_name: service
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $up } } }
        """, admin_port=self.admin_port, port=self.port, up=self.up.port)
        self.start_proxy(cfg, listen_ports=[self.port])
        self.assert_proxying()

    def test_legacy_filter_names(self):
        """Envoy: the deprecated filter names `envoy.http_connection_manager` and `envoy.router`
        are accepted (the typed_config's @type selects the implementation)."""
        cfg = fill(r"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: $admin_port } }
        static_resources:
          listeners:
          - name: legacy
            address: { socket_address: { address: 127.0.0.1, port_value: $port } }
            filter_chains:
            - filters:
              - name: envoy.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: service }
                  http_filters:
                  - name: envoy.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: service
            connect_timeout: 1s
            type: STATIC
            load_assignment:
              cluster_name: service
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $up } } }
        """, admin_port=self.admin_port, port=self.port, up=self.up.port)
        self.start_proxy(cfg, listen_ports=[self.port])
        self.assert_proxying()

    def test_concurrency_2(self):
        """Envoy: `--concurrency 2` runs two workers on the same listener; concurrent clients
        are all served and the stats add up across workers."""
        p = self.start_proxy(good_config(self.port, self.admin_port, self.up.port), concurrency=2,
                             listen_ports=[self.port])
        results = []
        lock = threading.Lock()

        def client(i):
            ok = 0
            for j in range(10):
                try:
                    r = http_request(self.port, "GET", f"/echo/{i}/{j}")
                    ok += r.status == 200 and r.json()["path"] == f"/echo/{i}/{j}"
                except Exception:  # noqa: BLE001 - counted as failure
                    pass
            with lock:
                results.append(ok)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sum(results), 80)
        total = p.wait_stat("http.ingress_http.downstream_rq_total", lambda v: v >= 80)
        self.assertEqual(total, 80)

    def test_file_access_log_custom_format(self):
        """Envoy: a file access log with text_format_source.inline_string writes one line per
        request with the command operators substituted (%UPSTREAM_HOST% is "-" for a direct
        response); lines are flushed within ~1 s (or at exit)."""
        log_dir = tempfile.mkdtemp(prefix="wg-alog-")
        self.addCleanup(shutil.rmtree, log_dir, True)
        log_path = os.path.join(log_dir, "access.log")
        cfg = fill(r"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: $admin_port } }
        static_resources:
          listeners:
          - name: logged
            address: { socket_address: { address: 127.0.0.1, port_value: $port } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: $log_path
                      log_format:
                        text_format_source:
                          inline_string: "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_HOST%\n"
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: { path: "/direct" }
                        direct_response: { status: 202, body: { inline_string: "direct" } }
                      - match: { prefix: "/" }
                        route: { cluster: service }
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: service
            connect_timeout: 1s
            type: STATIC
            load_assignment:
              cluster_name: service
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $up } } }
        """, admin_port=self.admin_port, port=self.port, up=self.up.port, log_path=log_path)
        p = self.start_proxy(cfg, listen_ports=[self.port])
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        self.assertEqual(http_request(self.port, "POST", "/echo/x?y=1", body=b"abc").status, 200)
        self.assertEqual(http_request(self.port, "GET", "/direct").status, 202)
        self.assertEqual(http_request(self.port, "GET", "/status?code=503").status, 503)
        expected = [f"GET /ok 200 127.0.0.1:{self.up.port}",
                    f"POST /echo/x?y=1 200 127.0.0.1:{self.up.port}",
                    "GET /direct 202 -",
                    f"GET /status?code=503 503 127.0.0.1:{self.up.port}"]

        def lines():
            try:
                with open(log_path) as f:
                    return f.read().splitlines()
            except OSError:
                return []

        got = wait_until(lambda: len(lines()) >= 4 and lines(), timeout=3.0)
        if not got:
            p.stop()  # Envoy flushes access logs on shutdown at the latest
            got = lines()
        self.assertEqual(got, expected)

    def test_json_access_log_to_stdout(self):
        """Envoy: envoy.access_loggers.stdout with log_format.json_format writes one JSON object per
        request to stdout."""
        cfg = fill(r"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: $admin_port } }
        static_resources:
          listeners:
          - name: logged
            address: { socket_address: { address: 127.0.0.1, port_value: $port } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      log_format:
                        json_format:
                          method: "%REQ(:METHOD)%"
                          path: "%REQ(:PATH)%"
                          code: "%RESPONSE_CODE%"
                          cluster: "%UPSTREAM_CLUSTER%"
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: service }
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: service
            connect_timeout: 1s
            type: STATIC
            load_assignment:
              cluster_name: service
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $up } } }
        """, admin_port=self.admin_port, port=self.port, up=self.up.port)
        p = self.start_proxy(cfg, listen_ports=[self.port])
        self.assertEqual(http_request(self.port, "GET", "/ok?json=1").status, 200)

        def entries():
            out = []
            for line in p.stdout().splitlines():
                line = line.strip()
                if line.startswith("{") and "/ok?json=1" in line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
            return out

        got = wait_until(entries, timeout=3.0)
        if not got:
            p.stop()
            got = entries()
        self.assertEqual(len(got), 1, p.stdout()[-2000:])
        e = got[0]
        self.assertEqual((e.get("method"), e.get("path"), str(e.get("code")), e.get("cluster")),
                         ("GET", "/ok?json=1", "200", "service"))


if __name__ == "__main__":
    unittest.main()
