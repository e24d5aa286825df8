;; The exact polyphase inner loop of shared/audio/resample.ts, with two f64x2 lanes in place of its four scalar
;; accumulators. Lane k of the pair (acc0, acc1) / (acc2, acc3) takes exactly the multiplies and adds that scalar
;; accumulator k takes, in the same order, and the sum is formed as (acc0 + acc1) + (acc2 + acc3): the output is
;; the JS loop's to the bit. Rebuilt into polyphase-wasm.ts by `npm run build:wasm`.
(module
  (memory (export "memory") 1)
  ;; out[j] (f32) for j in [0, n): row `phase` of the table (f64, `taps` per row) times scratch (f64) from `base`;
  ;; then base += stepInt, phase += stepFrac (mod up, carrying into base). Pointers are byte offsets; taps % 4 == 0.
  (func (export "polyphase")
    (param $scratch i32) (param $out i32) (param $table i32) (param $n i32) (param $taps i32)
    (param $up i32) (param $stepInt i32) (param $stepFrac i32) (param $base i32) (param $phase i32)
    (local $j i32) (local $r i32) (local $end i32) (local $b i32) (local $lo v128) (local $hi v128)
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $r (i32.add (local.get $table) (i32.shl (i32.mul (local.get $phase) (local.get $taps)) (i32.const 3))))
        (local.set $end (i32.add (local.get $r) (i32.shl (local.get $taps) (i32.const 3))))
        (local.set $b (i32.add (local.get $scratch) (i32.shl (local.get $base) (i32.const 3))))
        (local.set $lo (f64x2.splat (f64.const 0)))
        (local.set $hi (f64x2.splat (f64.const 0)))
        (loop $taps
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (v128.load (local.get $r)) (v128.load (local.get $b)))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (v128.load offset=16 (local.get $r)) (v128.load offset=16 (local.get $b)))))
          (local.set $r (i32.add (local.get $r) (i32.const 32)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (br_if $taps (i32.lt_u (local.get $r) (local.get $end))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64
            (f64.add
              (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo)))
              (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi))))))
        (local.set $base (i32.add (local.get $base) (local.get $stepInt)))
        (local.set $phase (i32.add (local.get $phase) (local.get $stepFrac)))
        (if (i32.ge_u (local.get $phase) (local.get $up))
          (then
            (local.set $phase (i32.sub (local.get $phase) (local.get $up)))
            (local.set $base (i32.add (local.get $base) (i32.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $outputs)))))
