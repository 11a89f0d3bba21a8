;; Proxy-Wasm 0.2.0 module for the soak test and the reload benchmark. In
;; proxy_on_request_headers it looks at the request:
;;   x-crash present -> traps (unreachable);
;;   x-loop present  -> never returns (the CPU watchdog must stop it);
;;   otherwise       -> continues; the response gets "x-chaos: passed".
(module
  (import "env" "proxy_get_header_map_value"
    (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value"
    (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-crash")
  (data (i32.const 110) "x-loop")
  (data (i32.const 120) "x-chaos")
  (data (i32.const 130) "passed")
  (global $heap (mut i32) (i32.const 4096))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    ;; a bump allocator that wraps around (the test runs long)
    (if (i32.gt_u (i32.add (global.get $heap) (local.get $size)) (i32.const 60000))
      (then (global.set $heap (i32.const 4096))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func $on_request_headers (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get (i32.const 0) (i32.const 100) (i32.const 7) (i32.const 200) (i32.const 204)))
      (then unreachable))
    (if (i32.eqz (call $get (i32.const 0) (i32.const 110) (i32.const 6) (i32.const 200) (i32.const 204)))
      (then (loop $forever (br $forever))))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 120) (i32.const 7) (i32.const 130) (i32.const 6)))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
