;; proxy_get_configuration is registered for 0.1.0 only.
(module
  (import "env" "proxy_get_configuration" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
)
