;; Proxy-Wasm 0.2.1 module for the bootstrap-service callout test: on its first tick (20 ms after
;; proxy_on_configure) the service calls GET /echo/svc on the cluster "up"; in
;; proxy_on_http_call_response it logs "callout status <:status>" from the response headers
;; (map type 6).
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_http_call"
    (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value"
    (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "up")
  ;; Serialized pairs: 3 headers, then (key,value) sizes, then NUL-terminated strings.
  (data (i32.const 120)
    "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\09\00\00\00\0a\00\00\00\03\00\00\00"
    ":method\00GET\00:path\00/echo/svc\00:authority\00svc\00")
  (data (i32.const 200) ":status")
  (data (i32.const 300) "callout status ")
  (global $called (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const 4096))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $tick (i32.const 20)))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (if (global.get $called) (then (return)))
    (global.set $called (i32.const 1))
    (drop (call $tick (i32.const 0)))
    (drop (call $http_call (i32.const 100) (i32.const 2) (i32.const 120) (i32.const 71)
                           (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                           (i32.const 2000) (i32.const 400))))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (local $p i32)
    (local $n i32)
    (local $i i32)
    (if (call $get_header (i32.const 6) (i32.const 200) (i32.const 7) (i32.const 410) (i32.const 414))
      (then (return)))
    (local.set $p (i32.load (i32.const 410)))
    (local.set $n (i32.load (i32.const 414)))
    ;; append the value after the prefix at 300 (15 bytes), at most 16 bytes
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (br_if $done (i32.ge_u (local.get $i) (i32.const 16)))
        (i32.store8 (i32.add (i32.const 315) (local.get $i))
                    (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (drop (call $log (i32.const 2) (i32.const 300) (i32.add (i32.const 15) (local.get $i)))))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
