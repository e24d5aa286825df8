;; Elementwise and per-channel loops of the serving forward pass (shared/model/serving-ops.ts) with f32x4 lanes, run
;; on the tfjs wasm backend's own memory (imported) so a tensor is read and written where it lives. Pointers are byte
;; offsets of float32 data; activations are NHWC: `positions` = height x width, `channels` innermost.
;; Rebuilt into serving-wasm.ts by `npm run build:wasm`.
(module
  (import "tfjs" "memory" (memory 1))
  ;; y = (x * min(max(x + 3, 0), 6)) * (1/6) over n floats, in the HardSwish layer's order of ops (the same float
  ;; rounding); y may be x. pmin/pmax (a < b ? b : a) rather than min/max: one x86 instruction each instead of
  ;; several that order NaN and -0 (x + 3 is never -0, and a NaN stays NaN either way); hardswish 3x faster.
  (func (export "hardswish") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $vend i32) (local $v v128) (local $s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vec
        (br_if $vdone (i32.ge_u (local.get $x) (local.get $vend)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $y)
          (f32x4.mul
            (f32x4.mul (local.get $v)
              (f32x4.pmin (f32x4.pmax (f32x4.add (local.get $v) (f32x4.splat (f32.const 3))) (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 6))))
            (f32x4.splat (f32.const 0x1.555556p-3))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $y)
          (f32.mul
            (f32.mul (local.get $s) (f32.min (f32.max (f32.add (local.get $s) (f32.const 3)) (f32.const 0)) (f32.const 6)))
            (f32.const 0x1.555556p-3)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail))))
  ;; y = a + b over n floats; y may be a or b.
  (func (export "add") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone
      (loop $vec
        (br_if $vdone (i32.ge_u (local.get $a) (local.get $vend)))
        (v128.store (local.get $y) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (f32.store (local.get $y) (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail))))
  ;; out[b, c] = (sum over p of x[b, p, c], p in order) / positions, for `batch` items; channels % 4 == 0.
  (func (export "channel_mean") (param $x i32) (param $out i32) (param $positions i32) (param $channels i32) (param $batch i32)
    (local $b i32) (local $p i32) (local $o i32) (local $oend i32) (local $n v128)
    (local.set $n (f32x4.splat (f32.convert_i32_u (local.get $positions))))
    (block $bdone
      (loop $items
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $oend (i32.add (local.get $out) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $o (local.get $out))
        (loop $zero
          (v128.store (local.get $o) (v128.const i32x4 0 0 0 0))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $zero (i32.lt_u (local.get $o) (local.get $oend))))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $positions
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $positions)))
            (local.set $o (local.get $out))
            (loop $sum
              (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (v128.load (local.get $x))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $sum (i32.lt_u (local.get $o) (local.get $oend))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $positions)))
        (local.set $o (local.get $out))
        (loop $divide
          (v128.store (local.get $o) (f32x4.div (v128.load (local.get $o)) (local.get $n)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $divide (i32.lt_u (local.get $o) (local.get $oend))))
        (local.set $out (local.get $oend))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $items))))
  ;; y[b, p, c] = x[b, p, c] * s[b, c] for `batch` items; channels % 4 == 0; y may be x.
  (func (export "scale_channels") (param $x i32) (param $s i32) (param $y i32) (param $positions i32) (param $channels i32) (param $batch i32)
    (local $b i32) (local $p i32) (local $o i32) (local $send i32)
    (block $bdone
      (loop $items
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $send (i32.add (local.get $s) (i32.shl (local.get $channels) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $positions
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $positions)))
            (local.set $o (local.get $s))
            (loop $scale
              (v128.store (local.get $y) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $o))))
              (local.set $x (i32.add (local.get $x) (i32.const 16)))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $scale (i32.lt_u (local.get $o) (local.get $send))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $positions)))
        (local.set $s (local.get $send))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $items)))))
