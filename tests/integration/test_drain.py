"""Graceful shutdown on SIGTERM with `--drain-time-s` (the flag name and meaning follow Envoy's
--drain-time-s).

wasmgate's contract (which differs from Envoy, whose SIGTERM exits at once; Envoy drains via
/drain_listeners?graceful or hot restart): on SIGTERM it stops accepting (listeners closed, new
connections refused), lets in-flight requests finish, sends `connection: close` on responses
during the drain, and exits 0 once no requests remain or the drain time has passed.
"""

import signal
import threading
import time
import unittest

from harness import (Conn, ConnectionClosed, WasmgateTestCase, envoy_yaml, free_port, http_request,
                     port_accepting, wait_until)

DRAIN_S = 3


class DrainTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream("fault")
        self.port = free_port()
        self.proxy = self.start_proxy(envoy_yaml(self.port, free_port(), [self.up.port]),
                                      extra_args=["--drain-time-s", str(DRAIN_S)], listen_ports=[self.port])

    def start_request(self, path):
        out = {}

        def run():
            t0 = time.monotonic()
            try:
                out["resp"] = http_request(self.port, "GET", path, timeout=15)
            except Exception as e:  # noqa: BLE001 - inspected by the test
                out["error"] = e
            out["done"] = time.monotonic()
            out["elapsed"] = out["done"] - t0

        t = threading.Thread(target=run)
        t.start()
        self.addCleanup(t.join, 20)
        return t, out

    def test_in_flight_request_completes(self):
        """wasmgate (Envoy-style drain): a request in flight at SIGTERM completes with 200, new
        connections are refused soon after SIGTERM, and the process exits 0 after the request."""
        t, out = self.start_request("/slow?ms=1500")
        self.assertTrue(self.up.wait_for(lambda u: any(r.route == "/slow" for r in u.requests), timeout=3),
                        "request did not reach the upstream")
        time.sleep(0.2)
        t_sig = time.monotonic()
        self.proxy.signal(signal.SIGTERM)
        refused = wait_until(lambda: not port_accepting(self.port, timeout=0.2), timeout=1.0, interval=0.02)
        refused_after = time.monotonic() - t_sig
        t.join(10)
        self.assertNotIn("error", out, out.get("error"))
        r = out["resp"]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"slow 1500ms\n")
        self.assertTrue(refused, "listener still accepting 1 s after SIGTERM")
        self.assertLess(refused_after, 1.0)
        rc = self.proxy.wait(DRAIN_S + 3)
        self.assertEqual(rc, 0, f"exit code {rc}")
        self.assertEqual(self.up.cancelled, [], "the in-flight upstream request was cut")

    def test_exits_promptly_when_idle(self):
        """wasmgate: SIGTERM with nothing in flight -> exit 0 well within the drain time."""
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 200)
        t0 = time.monotonic()
        self.proxy.signal(signal.SIGTERM)
        rc = self.proxy.wait(DRAIN_S + 3)
        self.assertEqual(rc, 0, f"exit code {rc}")
        self.assertLess(time.monotonic() - t0, DRAIN_S + 1)

    def test_keep_alive_connection_told_to_close(self):
        """wasmgate (as Envoy's HCM while draining): a response on an existing keep-alive
        connection during the drain carries `connection: close` and the connection is closed
        (closing the idle connection outright before the request is also acceptable)."""
        keeper, _ = self.start_request("/slow?ms=2000")  # keeps the drain going
        self.assertTrue(self.up.wait_for(lambda u: any(r.route == "/slow" for r in u.requests), timeout=3))
        c = Conn(self.port, timeout=5)
        self.addCleanup(c.close)
        self.assertEqual(c.request("GET", "/ok").status, 200)
        self.proxy.signal(signal.SIGTERM)
        time.sleep(0.3)
        if not c.is_open():
            return  # idle connection closed at drain start: fine
        try:
            r = c.request("GET", "/ok")
        except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
            return  # closed while our request was on the wire: the usual keep-alive race
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.header("connection") or "").lower(), "close", r)
        self.assertTrue(c.wait_closed(3))
        keeper.join(10)

    def test_drain_time_bounds_shutdown(self):
        """wasmgate: a request outliving --drain-time-s doesn't keep the process alive: it exits
        (code 0) about drain-time after SIGTERM and the client sees its connection closed."""
        t, out = self.start_request("/slow?ms=15000")
        self.assertTrue(self.up.wait_for(lambda u: any(r.route == "/slow" for r in u.requests), timeout=3))
        t0 = time.monotonic()
        self.proxy.signal(signal.SIGTERM)
        rc = self.proxy.wait(DRAIN_S + 5)
        took = time.monotonic() - t0
        self.assertIsNotNone(rc, "process still running long after the drain time")
        self.assertEqual(rc, 0)
        self.assertLess(took, DRAIN_S + 3)
        t.join(5)
        self.assertFalse(t.is_alive(), "client still waiting after the proxy exited")
        resp = out.get("resp")
        self.assertTrue("error" in out or (resp is not None and (not resp.complete or resp.status != 200)),
                        f"request should have been cut off: {out}")


if __name__ == "__main__":
    unittest.main()
