;; The inner loops of shared/audio/resample.ts (exact polyphase; half-band 2:1) with f64x2 lanes in place of its
;; scalar accumulators. Each lane takes exactly the multiplies and adds that its scalar accumulator takes, in the
;; same order, and the lanes are summed as the JS sums its accumulators: the output is the JS loop's to the bit.
;; Rebuilt into polyphase-wasm.ts by `npm run build:wasm`.
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
        (br $outputs))))
  ;; Half-band 2:1: out[j] (f32) for j in [0, n) = centre * s[c] + sum_i odd[i] * (s[c-1-2i] + s[c+1+2i]), c = 2j + half - 1,
  ;; with the even and odd i in two lanes, as halfBandBlock's acc0 and acc1; `count` odd taps (pairs = count & ~1).
  (func (export "halfband")
    (param $scratch i32) (param $out i32) (param $odd i32) (param $count i32) (param $centre f64) (param $n i32) (param $half i32)
    (local $j i32) (local $c i32) (local $l i32) (local $r i32) (local $o i32) (local $end i32) (local $acc v128) (local $tail f64)
    (local.set $end (i32.add (local.get $odd) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        ;; byte address of s[c]
        (local.set $c (i32.add (local.get $scratch) (i32.shl (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.sub (local.get $half) (i32.const 1))) (i32.const 3))))
        (local.set $acc (f64x2.replace_lane 0 (f64x2.splat (f64.const 0)) (f64.mul (local.get $centre) (f64.load (local.get $c)))))
        (local.set $l (i32.sub (local.get $c) (i32.const 8)))
        (local.set $r (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (local.get $odd))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (local.get $o) (local.get $end)))
            ;; lanes (odd[i], odd[i+1]) * ((s[l], s[l-2]) + (s[r], s[r+2]))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.mul (v128.load (local.get $o))
                (f64x2.add
                  (v128.load64_lane 1 (i32.sub (local.get $l) (i32.const 16)) (v128.load64_zero (local.get $l)))
                  (v128.load64_lane 1 (i32.add (local.get $r) (i32.const 16)) (v128.load64_zero (local.get $r)))))))
            (local.set $l (i32.sub (local.get $l) (i32.const 32)))
            (local.set $r (i32.add (local.get $r) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $pairs)))
        (local.set $tail (f64x2.extract_lane 0 (local.get $acc)))
        (if (i32.and (local.get $count) (i32.const 1))
          (then
            (local.set $tail (f64.add (local.get $tail)
              (f64.mul (f64.load (local.get $end)) (f64.add (f64.load (local.get $l)) (f64.load (local.get $r))))))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64 (f64.add (local.get $tail) (f64x2.extract_lane 1 (local.get $acc)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $outputs))))
  ;; 1:2 interpolation with a half-band filter: out[2i] = s[i + half - 1] (the input sample), out[2i + 1] =
  ;; sum_{k < half} row[k] * (s[i + k] + s[i + 2 half - 1 - k]) (phase 1 of the table, symmetric, folded), even k in
  ;; lane 0 and odd k in lane 1 as upsample2Block's acc0 and acc1; i in [0, n), half even.
  (func (export "upsample2")
    (param $scratch i32) (param $out i32) (param $row i32) (param $n i32) (param $half i32)
    (local $i i32) (local $l i32) (local $r i32) (local $c i32) (local $end i32) (local $acc v128) (local $o i32)
    (local.set $end (i32.add (local.get $row) (i32.shl (local.get $half) (i32.const 3))))
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $l (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 3))))
        ;; s[i + 2 half - 2]: the pair (s[.. - 1 - k], s[.. - k]) read at once, lanes swapped to (k, k + 1) order
        (local.set $r (i32.add (local.get $l) (i32.shl (i32.sub (i32.shl (local.get $half) (i32.const 1)) (i32.const 2)) (i32.const 3))))
        (local.set $c (local.get $row))
        (local.set $acc (f64x2.splat (f64.const 0)))
        (loop $taps
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (v128.load (local.get $c))
              (f64x2.add
                (v128.load (local.get $l))
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (v128.load (local.get $r)) (v128.load (local.get $r)))))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $l (i32.add (local.get $l) (i32.const 16)))
          (local.set $r (i32.sub (local.get $r) (i32.const 16)))
          (br_if $taps (i32.lt_u (local.get $c) (local.get $end))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))))
        (f32.store (local.get $o)
          (f32.demote_f64 (f64.load (i32.add (local.get $scratch) (i32.shl (i32.add (local.get $i) (i32.sub (local.get $half) (i32.const 1))) (i32.const 3))))))
        (f32.store offset=4 (local.get $o)
          (f32.demote_f64 (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outputs)))))
