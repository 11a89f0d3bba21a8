;; Proxy-Wasm 0.2.1 module for the filter-state test: in proxy_on_request_headers it reads the
;; property "wasm_seen" and, when another filter already set it, copies it into the request
;; header x-seen; then it sets "wasm_seen" itself (proxy_set_property).
(module
  (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value"
    (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "wasm_seen")
  (data (i32.const 120) "yes-from-plugin")
  (data (i32.const 140) "x-seen")
  (global $heap (mut i32) (i32.const 4096))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get (i32.const 100) (i32.const 9) (i32.const 200) (i32.const 204)))
      (then
        (drop (call $add (i32.const 0) (i32.const 140) (i32.const 6)
                         (i32.load (i32.const 200)) (i32.load (i32.const 204))))))
    (drop (call $set (i32.const 100) (i32.const 9) (i32.const 120) (i32.const 15)))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
