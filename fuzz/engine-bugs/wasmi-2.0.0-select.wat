;; An engine bug the fuzzer met (seed 24301, case 1000703), shrunk with
;; `wasm-tools shrink` from the wasm-smith target: wasmi 2.0.0 traps in
;; `_start` with "integer divide by zero"; V8 (Node 22) and wasmtime 49
;; return. The divisor is `select(1, $l1, $l1 == 0)` with $l1 = 0, which is 1.
;; The fuzzer now asks wasmtime before it blames the merge (`wasmi_disagreed`
;; in its figures). Run: `wasmi_cli FILE --invoke _start` vs
;; `wasmtime run --invoke _start`.
(module
  (type (;0;) (func (result i32)))
  (type (;1;) (func))
  (memory (;0;) 2 3)
  (global (;0;) (mut i32) i32.const 0)
  (global (;1;) (mut i64) i64.const 0)
  (global (;2;) (mut i32) i32.const 0)
  (export "_start" (func 0))
  (func (;0;) (type 1)
    (local i64 i32 i32 i32 i64 i32 i64 i32 i32 i32 f32 i32 f32 i32 i32 i32 i64)
    memory.size
    i32.const 1
    local.get 1
    local.get 1
    i32.eqz
    select
    local.set 1
    local.set 2
    block ;; label = @1
      block ;; label = @2
        local.get 2
        br_if 0 (;@2;)
        i32.const 1
        br_if 0 (;@2;)
        br 1 (;@1;)
      end
    end
    i32.const 0
    local.get 1
    i32.div_s
    local.set 3
    local.get 3
    if ;; label = @1
    else
      local.get 3
      i32.eqz
      if ;; label = @2
        i32.const 0
        i64.const 0
        i64.store8 offset=19059
      else
      end
    end
    local.get 5
    if ;; label = @1
    else
      local.get 5
      if ;; label = @2
        local.get 5
        local.get 6
        i64.store32 offset=40866
      else
      end
    end
    ref.null extern
    i64.const 0
    loop (result f32) ;; label = @1
      block ;; label = @2
        block ;; label = @3
          local.get 7
          br_if 0 (;@3;)
          local.get 7
          br_if 0 (;@3;)
          br 1 (;@2;)
        end
      end
      local.get 8
      f32.const -0x1.d65392p+104 (;=-37263100000000000000000000000000;)
      loop (type 0) (result i32) ;; label = @2
        block ;; label = @3
          block ;; label = @4
            local.get 9
            br_if 0 (;@4;)
            local.get 9
            br_if 0 (;@4;)
            br 1 (;@3;)
          end
        end
        i64.const 0
        block ;; label = @3
          block ;; label = @4
            i32.const 1
            br_if 0 (;@4;)
            i32.const 1
            br_if 0 (;@4;)
            br 1 (;@3;)
          end
        end
        f32.const 0x1p+0 (;=1;)
        block ;; label = @3
          block ;; label = @4
            local.get 13
            br_if 0 (;@4;)
            local.get 13
            br_if 0 (;@4;)
            br 1 (;@3;)
          end
        end
        block ;; label = @3
          block ;; label = @4
            memory.size
            local.get 15
            i32.le_u
            br_if 0 (;@4;)
            i32.const 0
            br_if 0 (;@4;)
            br 1 (;@3;)
          end
        end
        i32.reinterpret_f32
        global.get 2
        i32.xor
        global.set 2
        global.get 1
        i64.xor
        global.set 1
        i32.const 0
      end
      global.get 0
      i32.xor
      global.set 0
      i32.reinterpret_f32
      global.get 2
      i32.xor
      global.set 2
      i32.const 1
      i32.xor
      global.set 0
      f32.const 0x1.80008p-132 (;=0.000000000000000000000000000000000000000275508;)
    end
    i32.reinterpret_f32
    global.get 2
    i32.xor
    global.set 2
    global.get 1
    i64.xor
    global.set 1
    drop
  )
)
