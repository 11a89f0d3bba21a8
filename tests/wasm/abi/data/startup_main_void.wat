;; _initialize then __main_void (no main).
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "init")
  (data (i32.const 32) "main_void")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "_initialize") (drop (call $proxy_log (i32.const 2) (i32.const 16) (i32.const 4))))
  (func (export "__main_void") (result i32)
    (drop (call $proxy_log (i32.const 2) (i32.const 32) (i32.const 9)))
    (i32.const 0))
)
