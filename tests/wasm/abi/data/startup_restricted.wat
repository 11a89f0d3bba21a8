;; _initialize makes a hostcall that is not allowed during startup.
(module
  (import "env" "proxy_get_property" (func $proxy_get_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "plugin_root_id")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "_initialize")
    (drop (call $proxy_get_property (i32.const 16) (i32.const 14) (i32.const 64) (i32.const 68))))
)
