;; A wasm start function that makes a hostcall: it runs inside instantiation, before the
;; instance exists.
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func $start (drop (call $proxy_log (i32.const 2) (i32.const 0) (i32.const 0))))
  (start $start)
)
