;; A command module: _start only. main is not called without _initialize (and its odd
;; signature is not checked).
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "start")
  (data (i32.const 32) "main")
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
  (func (export "_start") (drop (call $proxy_log (i32.const 2) (i32.const 16) (i32.const 5))))
  (func (export "main") (drop (call $proxy_log (i32.const 2) (i32.const 32) (i32.const 4))))
)
