;; Proxy-Wasm 0.2.0 module that misbehaves on demand, for the hostile-input integration test.
;; proxy_on_request_headers reads the request header "x-do" and, by its first letter:
;;   r(ecurse)  unbounded recursion: the stack overflows and the call traps
;;   g(arbage)  returns 0xdeadbeef, which is no FilterHeadersStatus
;;   c(ontinue) calls proxy_continue_stream on its own stream from inside the callback, then
;;              returns Continue (a re-entrant call the host must not act on twice)
;;   o(ob)      reads a header with a key that wraps past the end of memory
;;   h(uge)     reads a header with a 2 GiB key length
;;   b(ogus)    makes malloc return a pointer past the end of memory, then reads a header
;;              (the host must refuse to write the value there)
;;   w(rong)    proxy_set_effective_context on a context id that does not exist
;;   e(num)     reads header map type 99 and closes stream type 7
;; For o/h/b/w/e the hostcall's result r comes back as a local reply with status 200 + r
;; (e.g. 206 for InvalidMemoryAccess); anything else passes through to the upstream.
(module
  (import "env" "proxy_get_header_map_value"
    (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $close (param i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-do")
  (global $heap (mut i32) (i32.const 4096))
  (global $bogus (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (if (global.get $bogus) (then (return (i32.const 0xfffffff0))))
    (if (i32.gt_u (i32.add (global.get $heap) (local.get $size)) (i32.const 60000))
      (then (global.set $heap (i32.const 4096))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func $deep (param $n i32) (result i32)
    (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  ;; Answers 200 + r locally and tells the host to stop.
  (func $answer (param $r i32) (result i32)
    (drop (call $reply (i32.add (i32.const 200) (local.get $r))
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const -1)))
    (i32.const 1))
  (func $xdo (param $key i32) (param $len i32) (result i32)
    (call $get (i32.const 0) (local.get $key) (local.get $len) (i32.const 200) (i32.const 204)))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (local $op i32)
    (if (call $xdo (i32.const 100) (i32.const 4)) (then (return (i32.const 0))))
    (if (i32.eqz (i32.load (i32.const 204))) (then (return (i32.const 0))))
    (local.set $op (i32.load8_u (i32.load (i32.const 200))))
    (if (i32.eq (local.get $op) (i32.const 0x72)) ;; r
      (then (return (call $deep (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 0x67)) ;; g
      (then (return (i32.const 0xdeadbeef))))
    (if (i32.eq (local.get $op) (i32.const 0x63)) ;; c
      (then (drop (call $continue (i32.const 0))) (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 0x6f)) ;; o
      (then (return (call $answer (call $xdo (i32.const 0xfffffff0) (i32.const 0x20))))))
    (if (i32.eq (local.get $op) (i32.const 0x68)) ;; h
      (then (return (call $answer (call $xdo (i32.const 100) (i32.const 0x7fffffff))))))
    (if (i32.eq (local.get $op) (i32.const 0x62)) ;; b
      (then
        (global.set $bogus (i32.const 1))
        (local.set $op (call $xdo (i32.const 100) (i32.const 4)))
        (global.set $bogus (i32.const 0))
        (return (call $answer (local.get $op)))))
    (if (i32.eq (local.get $op) (i32.const 0x77)) ;; w
      (then (return (call $answer (call $effective (i32.const 12345))))))
    (if (i32.eq (local.get $op) (i32.const 0x65)) ;; e
      (then (return (call $answer (i32.add
        (call $get (i32.const 99) (i32.const 100) (i32.const 4) (i32.const 200) (i32.const 204))
        (i32.mul (i32.const 10) (call $close (i32.const 7))))))))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
