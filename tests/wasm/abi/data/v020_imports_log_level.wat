;; proxy_get_log_level is registered for 0.2.1 only.
(module
  (import "env" "proxy_get_log_level" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
)
