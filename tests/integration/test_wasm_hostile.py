"""Hostile plugins through the real binary (data/hostile.wat and the start-up trap modules).

  * Hostcall abuse (a key that wraps past the end of memory, a 2 GiB length, an allocator that
    returns a pointer outside memory, an unknown context id, out-of-range enum values) gets the
    ABI's error codes back; the VM keeps working and nothing is counted as a crash.
  * A re-entrant proxy_continue_stream from inside the stream's own callback changes nothing:
    one response, from the upstream.
  * Unbounded recursion (stack overflow) and a status outside FilterHeadersStatus fail the VM:
    the request gets the policy's answer (FAIL_RELOAD: 503, then a fresh VM), the failure is
    logged with its reason and counted, a listener without the plugin never notices.
  * A trap in _initialize or in proxy_on_vm_start is a startup error naming the plugin.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Proxy, WasmgateTestCase, fill, free_port, http_request
from test_wasm_failures import CONFIG

HERE = os.path.dirname(os.path.abspath(__file__))


class WasmHostileTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-hostile-")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        cls.modules = {}
        for name in ("hostile", "trap_in_initialize", "trap_in_vm_start"):
            cls.modules[name] = os.path.join(cls.tmp, name + ".wasm")
            subprocess.run([wat2wasm, "--debug-names", os.path.join(HERE, "data", name + ".wat"),
                            "-o", cls.modules[name]], check=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, module):
        self.up = self.start_upstream()
        self.port, self.port2 = free_port(), free_port()
        return fill(CONFIG, admin_port=free_port(), port=self.port, port2=self.port2,
                    up_port=self.up.port, wasm=self.modules[module], policy="FAIL_RELOAD",
                    max_crashes=100, max_callback="1s", memory_limit=268435456)

    def stat(self, p, name):
        for line in p.admin_request("GET", "/stats").body.decode().splitlines():
            if line.startswith(name + ": "):
                return int(line.split(": ")[1])
        return None

    def do(self, what):
        return http_request(self.port, "GET", "/echo/x", headers={"x-do": what})

    def test_hostcall_abuse_gets_error_codes(self):
        p = self.start_proxy(self.config("hostile"))
        # 200 + WasmResult: 6 InvalidMemoryAccess, 2 BadArgument (+10x BadArgument for the
        # close_stream with stream type 7).
        for what, status in (("oob", 206), ("huge", 206), ("bogus-malloc", 206),
                             ("wrong-context", 202), ("enum", 222)):
            with self.subTest(what=what):
                self.assertEqual(self.do(what).status, status)
        r = http_request(self.port, "GET", "/ok")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 0)
        self.assertEqual(self.stat(p, "wasm.trapper.restarts"), 0)

    def test_reentrant_continue_is_harmless(self):
        p = self.start_proxy(self.config("hostile"))
        for _ in range(3):
            r = self.do("continue")
            self.assertEqual(r.status, 200, r)
            self.assertIn(b'"path": "/echo/x"', r.body)  # the upstream's echo
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 0)
        self.assertEqual(len(self.up.requests_to("/echo")), 3)

    def test_recursion_and_garbage_status_fail_the_vm(self):
        p = self.start_proxy(self.config("hostile"))
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        self.assertEqual(self.do("recurse").status, 503)
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)  # a fresh VM
        self.assertEqual(self.do("garbage").status, 503)
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 2)
        self.assertEqual(self.stat(p, "wasm.trapper.restarts"), 2)
        plugins = json.loads(p.admin_request("GET", "/wasm").body)
        self.assertEqual([(x["name"], x["state"], x["crashes"], x["restarts"]) for x in plugins],
                         [("trapper", "ok", 2, 2)])
        self.assertEqual(plugins[0]["max_callback_duration_ms"], 1000)
        logs = p.logs()
        self.assertIn("wasm plugin 'trapper' failed in proxy_on_request_headers (trap)", logs)
        self.assertIn("Maximum call stack size exceeded", logs)
        self.assertIn("proxy_on_request_headers returned 3735928559, which is not a "
                      "FilterHeadersStatus (0-4)", logs)

    def test_trap_during_startup_is_a_startup_error(self):
        for module, where in (("trap_in_initialize", "_initialize"),
                              ("trap_in_vm_start", "proxy_on_vm_start")):
            with self.subTest(module=module):
                text = self.config(module)
                proxy = Proxy(text, extra_args=["--mode", "validate"])
                with open(proxy.config_path, "w") as f:
                    f.write(text)
                res = subprocess.run(proxy.command(), capture_output=True, text=True, timeout=60)
                self.assertEqual(res.returncode, 1, res)
                self.assertIn("plugin 'trapper'", res.stderr)
                self.assertIn(where, res.stderr)


if __name__ == "__main__":
    unittest.main()
