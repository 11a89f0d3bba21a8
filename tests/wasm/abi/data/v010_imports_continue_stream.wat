;; proxy_continue_stream is registered for 0.2.x only.
(module
  (import "env" "proxy_continue_stream" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_1_0"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
)
