;; Runaway code for the watchdog: a tight loop, and a loop reached through a host function.
(module
  (import "env" "call_guest" (func $call_guest (param i32) (result i32)))
  (memory (export "memory") 1)
  (func $spin (export "spin") (loop $l br $l))
  (func $spin_i32 (export "spin_i32") (param i32) (result i32) (loop $l br $l) i32.const 0)
  (func (export "via_host") (result i32) i32.const 1 call $call_guest)
  (func (export "quick") (result i32) i32.const 5)
  ;; counts down from n: a call that takes a little while but ends by itself
  (func (export "busy") (param $n i32) (result i32)
    (loop $l
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $l)
    local.get $n)
)
