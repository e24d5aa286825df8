;; The per-frame loops around PFFFT's real transform (shared/audio/real-fft.ts), with f64x2 lanes: pre-emphasis and
;; window into the FFT's input frame, and the power spectrum of its output. Every value takes exactly the float64
;; operations of the JS loops it replaces (wasm never fuses a multiply-add), so the frames and spectra are theirs to
;; the bit. It imports PFFFT's memory: frames and spectra stay where the FFT reads and writes them.
;; Rebuilt into frame-wasm.ts by `npm run build:wasm`.
(module
  (import "pffft" "memory" (memory 1))
  ;; dst[i] (f32) = (src[i + 1] - a * src[i]) * win[i] (f64) for i in [0, n): src is n + 1 f32 samples, win n f64.
  (func (export "preemphasis")
    (param $src i32) (param $dst i32) (param $win i32) (param $n i32) (param $a f64)
    (local $i i32) (local $av v128) (local $s i32) (local $d i32) (local $w i32)
    (local.set $av (f64x2.splat (local.get $a)))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $w (i32.add (local.get $win) (i32.shl (local.get $i) (i32.const 3))))
        (v128.store64_lane 0 (local.get $d)
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.sub
                (f64x2.promote_low_f32x4 (v128.load64_zero offset=4 (local.get $s)))
                (f64x2.mul (local.get $av) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $s)))))
              (v128.load (local.get $w)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
        (f32.store
          (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (f32.demote_f64
            (f64.mul
              (f64.sub
                (f64.promote_f32 (f32.load offset=4 (local.get $s)))
                (f64.mul (local.get $a) (f64.promote_f32 (f32.load (local.get $s)))))
              (f64.load (i32.add (local.get $win) (i32.shl (local.get $i) (i32.const 3))))))))))
  ;; P[k] (f64) = re * re + im * im of PFFFT's ordered real spectrum X (f32: X0.re, X(h).re, X1.re, X1.im, ...)
  ;; for k in [1, last), and P[0] = X0.re^2, P[h] = X(h).re^2.
  (func (export "power")
    (param $X i32) (param $P i32) (param $h i32) (param $last i32)
    (local $k i32) (local $v v128) (local $a v128) (local $b v128)
    (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $X))))
    (local.set $v (f64x2.mul (local.get $v) (local.get $v)))
    (f64.store (local.get $P) (f64x2.extract_lane 0 (local.get $v)))
    (f64.store (i32.add (local.get $P) (i32.shl (local.get $h) (i32.const 3))) (f64x2.extract_lane 1 (local.get $v)))
    (local.set $k (i32.const 1))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (i32.add (local.get $k) (i32.const 1)) (local.get $last)))
        ;; (re_k, im_k, re_k+1, im_k+1) -> squares in two f64x2 -> (re_k^2 + im_k^2, re_k+1^2 + im_k+1^2)
        (local.set $v (v128.load (i32.add (local.get $X) (i32.shl (local.get $k) (i32.const 3)))))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $a (f64x2.mul (local.get $a) (local.get $a)))
        (local.set $b (f64x2.mul (local.get $b) (local.get $b)))
        (v128.store (i32.add (local.get $P) (i32.shl (local.get $k) (i32.const 3)))
          (f64x2.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $k) (local.get $last))
      (then
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $X) (i32.shl (local.get $k) (i32.const 3))))))
        (local.set $v (f64x2.mul (local.get $v) (local.get $v)))
        (f64.store (i32.add (local.get $P) (i32.shl (local.get $k) (i32.const 3)))
          (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v)))))));; Mel band sums of a power spectrum P (f64): out[m] = sum over k in [start[m], start[m] + length[m]) of
  ;; weights[offset[m] + k - start[m]] * P[k] + bias, each band's terms added in increasing k from 0, as the JS loop
  ;; adds them. start, length and offset are i32 arrays of nMels; weights f64.
  (func (export "mel")
    (param $P i32) (param $out i32) (param $start i32) (param $length i32) (param $offset i32) (param $weights i32)
    (param $nMels i32) (param $bias f64)
    (local $m i32) (local $p i32) (local $w i32) (local $end i32) (local $acc f64) (local $at i32)
    (block $bands_done
      (loop $bands
        (br_if $bands_done (i32.ge_u (local.get $m) (local.get $nMels)))
        (local.set $at (i32.shl (local.get $m) (i32.const 2)))
        (local.set $p (i32.add (local.get $P) (i32.shl (i32.load (i32.add (local.get $start) (local.get $at))) (i32.const 3))))
        (local.set $end (i32.add (local.get $p) (i32.shl (i32.load (i32.add (local.get $length) (local.get $at))) (i32.const 3))))
        (local.set $w (i32.add (local.get $weights) (i32.shl (i32.load (i32.add (local.get $offset) (local.get $at))) (i32.const 3))))
        (local.set $acc (f64.const 0))
        (block $bins_done
          (loop $bins
            (br_if $bins_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $acc (f64.add (local.get $acc) (f64.mul (f64.load (local.get $w)) (f64.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $w (i32.add (local.get $w) (i32.const 8)))
            (br $bins)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))) (f64.add (local.get $acc) (local.get $bias)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $bands)))))
