;; Every call shape the Proxy-Wasm ABI uses, in both directions, plus memory.
(module
  (import "env" "host_4i32" (func $host_4i32 (param i32 i32 i32 i32) (result i32)))
  (import "env" "host_i32_i64" (func $host_i32_i64 (param i32 i64) (result i32)))
  (import "env" "host_now" (func $host_now (result i64)))
  (import "env" "host_void" (func $host_void (param i32)))
  (import "env" "host_12" (func $host_12
    (param i32 i64 i32 i64 i32 i64 i32 i64 i32 i64 i32 i64) (result i64)))
  (import "env" "host_call_back" (func $host_call_back (param i32) (result i32)))

  (memory (export "memory") 2 16)
  (data (i32.const 16) "hello, wasm")
  (global $counter (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const 4096))

  ;; guest -> guest shapes
  (func (export "nop"))
  (func (export "answer") (result i32) i32.const 42)
  (func (export "big") (result i64) i64.const 0x123456789abcdef0)
  (func (export "bump") (param i32) global.get $counter local.get 0 i32.add global.set $counter)
  (func (export "counter") (result i32) global.get $counter)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "mix") (param i32 i64) (result i32)
    local.get 0 local.get 1 i32.wrap_i64 i32.sub)
  (func (export "neg64") (param i64) (result i64) i64.const 0 local.get 0 i64.sub)
  (func (export "sum12") (param i32 i64 i32 i64 i32 i64 i32 i64 i32 i64 i32 i64) (result i64)
    local.get 0 i64.extend_i32_u local.get 1 i64.add
    local.get 2 i64.extend_i32_u i64.add local.get 3 i64.add
    local.get 4 i64.extend_i32_u i64.add local.get 5 i64.add
    local.get 6 i64.extend_i32_u i64.add local.get 7 i64.add
    local.get 8 i64.extend_i32_u i64.add local.get 9 i64.add
    local.get 10 i64.extend_i32_u i64.add local.get 11 i64.add)
  (func (export "f32fn") (param f32) (result f32) local.get 0)

  ;; guest -> host shapes
  (func (export "call_4i32") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $host_4i32)
  (func (export "call_i32_i64") (param i32 i64) (result i32)
    local.get 0 local.get 1 call $host_i32_i64)
  (func (export "call_now") (result i64) call $host_now)
  (func (export "call_void") (param i32) local.get 0 call $host_void)
  (func (export "call_12") (result i64)
    i32.const 1 i64.const 2 i32.const 3 i64.const 4 i32.const 5 i64.const 6
    i32.const 7 i64.const 8 i32.const 9 i64.const 10 i32.const -1 i64.const -1
    call $host_12)
  (func (export "call_back") (param i32) (result i32) local.get 0 call $host_call_back)

  ;; a bump allocator the host calls from inside a host function (re-entrancy)
  (func (export "malloc") (param i32) (result i32)
    (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get 0 i32.add global.set $heap
    local.get $p)

  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "pages") (result i32) memory.size)
)
