;; The per-frame loops around PFFFT's real transform (shared/audio/real-fft.ts), with f64x2 lanes: pre-emphasis and
;; window into the FFT's input frame, and the power spectrum of its output. Every value takes exactly the float64
;; operations of the JS loops it replaces (wasm never fuses a multiply-add), so the frames and spectra are theirs to
;; the bit. It imports PFFFT's memory: frames and spectra stay where the FFT reads and writes them.
;; Rebuilt into frame-wasm.ts by `npm run build:wasm`.
(module
  (import "pffft" "memory" (memory 1))
  ;; Math.log, for the rare values the SIMD log below does not take (zero, subnormal, infinite, NaN).
  (import "js" "log" (func $jslog (param f64) (result f64)))
  ;; PFFFT's pffft_transform_ordered(setup, input, output, work, direction): called from "frames" without leaving wasm.
  (import "pffft" "transform" (func $transform (param i32 i32 i32 i32 i32)))
  ;; dst[i] (f32) = (src[i + 1] - a * src[i]) * win[i] (f64) for i in [0, n): src is n + 1 f32 samples, win n f64.
  (func $preemphasis (export "preemphasis")
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
  (func $power (export "power")
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
          (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v)))))))
  ;; Mel band sums of a power spectrum P (f64): out[m] = sum over k in [start[m], start[m] + length[m]) of
  ;; weights[offset[m] + k - start[m]] * P[k] + bias, each band's terms added in increasing k from 0, as the JS loop
  ;; adds them. start, length and offset are i32 arrays of nMels; weights f64.
  (func $mel (export "mel")
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
        (br $bands))))
  ;; v[i] = (ln(v[i]) + shift) / scale in place for i in [0, n), two at a time (v has room for n rounded up to even).
  ;; ln: x = 2^k (1 + f) with 1 + f in (sqrt(2)/2, sqrt(2)], s = f / (2 + f), ln(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)),
  ;; R the minimax polynomial of Sun's fdlibm e_log.c; k ln 2 in two parts. Within 1 ulp of Math.log (test); values
  ;; outside the normal positive range go to Math.log itself.
  (func $log (export "log")
    (param $v i32) (param $n i32) (param $shift f64) (param $scale f64)
    (local $p i32) (local $end i32) (local $x v128) (local $m v128) (local $big v128) (local $k v128) (local $kf v128)
    (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $hfsq v128) (local $r v128) (local $bad v128)
    (local.set $end (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $p (local.get $v))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        (local.set $m (v128.or
          (v128.and (local.get $x) (i64x2.splat (i64.const 0x000FFFFFFFFFFFFF)))
          (i64x2.splat (i64.const 0x3FF0000000000000))))
        (local.set $big (f64x2.gt (local.get $m) (f64x2.splat (f64.const 1.4142135623730951))))
        (local.set $m (v128.bitselect (f64x2.mul (local.get $m) (f64x2.splat (f64.const 0.5))) (local.get $m) (local.get $big)))
        ;; k = exponent - 1023, + 1 where the mantissa was halved (big is -1 there)
        (local.set $k (i64x2.sub
          (i64x2.sub (i64x2.shr_u (local.get $x) (i32.const 52)) (i64x2.splat (i64.const 1023)))
          (local.get $big)))
        (local.set $kf (f64x2.convert_low_i32x4_s
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $k) (local.get $k))))
        (local.set $f (f64x2.sub (local.get $m) (f64x2.splat (f64.const 1))))
        (local.set $s (f64x2.div (local.get $f) (f64x2.add (f64x2.splat (f64.const 2)) (local.get $f))))
        (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
        (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
        ;; R = z (Lg1 + w (Lg3 + w (Lg5 + w Lg7))) + w (Lg2 + w (Lg4 + w Lg6))
        (local.set $r (f64x2.add
          (f64x2.mul (local.get $z)
            (f64x2.add (f64x2.splat (f64.const 6.666666666666735130e-01))
              (f64x2.mul (local.get $w)
                (f64x2.add (f64x2.splat (f64.const 2.857142874366239149e-01))
                  (f64x2.mul (local.get $w)
                    (f64x2.add (f64x2.splat (f64.const 1.818357216161805012e-01))
                      (f64x2.mul (local.get $w) (f64x2.splat (f64.const 1.479819860511658591e-01)))))))))
          (f64x2.mul (local.get $w)
            (f64x2.add (f64x2.splat (f64.const 3.999999999940941908e-01))
              (f64x2.mul (local.get $w)
                (f64x2.add (f64x2.splat (f64.const 2.222219843214978396e-01))
                  (f64x2.mul (local.get $w) (f64x2.splat (f64.const 1.531383769920937332e-01)))))))))
        (local.set $hfsq (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.mul (local.get $f) (local.get $f))))
        ;; k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f)
        (local.set $r (f64x2.sub
          (f64x2.mul (local.get $kf) (f64x2.splat (f64.const 6.93147180369123816490e-01)))
          (f64x2.sub
            (f64x2.sub (local.get $hfsq)
              (f64x2.add
                (f64x2.mul (local.get $s) (f64x2.add (local.get $hfsq) (local.get $r)))
                (f64x2.mul (local.get $kf) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
            (local.get $f))))
        (local.set $r (f64x2.div (f64x2.add (local.get $r) (f64x2.splat (local.get $shift))) (f64x2.splat (local.get $scale))))
        (v128.store (local.get $p) (local.get $r))
        ;; lanes outside [smallest normal, infinity): Math.log
        (local.set $bad (v128.not (v128.and
          (f64x2.ge (local.get $x) (f64x2.splat (f64.const 2.2250738585072014e-308)))
          (f64x2.lt (local.get $x) (f64x2.splat (f64.const inf))))))
        (if (v128.any_true (local.get $bad))
          (then
            (if (i64.ne (i64x2.extract_lane 0 (local.get $bad)) (i64.const 0))
              (then (f64.store (local.get $p)
                (f64.div (f64.add (call $jslog (f64x2.extract_lane 0 (local.get $x))) (local.get $shift)) (local.get $scale)))))
            (if (i64.ne (i64x2.extract_lane 1 (local.get $bad)) (i64.const 0))
              (then (f64.store offset=8 (local.get $p)
                (f64.div (f64.add (call $jslog (f64x2.extract_lane 1 (local.get $x))) (local.get $shift)) (local.get $scale)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $pairs))))
  ;; A run of frames, each as JS would call the four steps above: frame t's pre-emphasis source starts at src + t hop
  ;; samples; its window goes to the FFT input at `offset`; the transform; the power of bins below `last`; the band
  ;; sums plus `bias`; their log, shifted and scaled; stored as f32 at dst[t frameStride + m melStride]. The log's
  ;; pairs need `bands` to have room for nMels rounded up to even.
  (func (export "frames")
    (param $src i32) (param $count i32) (param $hop i32)
    (param $setup i32) (param $in i32) (param $spectrum i32) (param $work i32)
    (param $win i32) (param $taps i32) (param $offset i32) (param $a f64)
    (param $P i32) (param $h i32) (param $last i32)
    (param $start i32) (param $length i32) (param $weights_at i32) (param $weights i32) (param $nMels i32) (param $bias f64)
    (param $bands i32) (param $shift f64) (param $scale f64)
    (param $dst i32) (param $frameStride i32) (param $melStride i32)
    (local $t i32) (local $m i32) (local $row i32)
    (block $done
      (loop $frames
        (br_if $done (i32.ge_u (local.get $t) (local.get $count)))
        (call $preemphasis
          (i32.add (local.get $src) (i32.shl (i32.mul (local.get $t) (local.get $hop)) (i32.const 2)))
          (i32.add (local.get $in) (i32.shl (local.get $offset) (i32.const 2)))
          (local.get $win) (local.get $taps) (local.get $a))
        (call $transform (local.get $setup) (local.get $in) (local.get $spectrum) (local.get $work) (i32.const 0))
        (call $power (local.get $spectrum) (local.get $P) (local.get $h) (local.get $last))
        (call $mel (local.get $P) (local.get $bands) (local.get $start) (local.get $length) (local.get $weights_at)
          (local.get $weights) (local.get $nMels) (local.get $bias))
        (call $log (local.get $bands) (local.get $nMels) (local.get $shift) (local.get $scale))
        (local.set $row (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $t) (local.get $frameStride)) (i32.const 2))))
        (local.set $m (i32.const 0))
        (block $stored
          (loop $store
            (br_if $stored (i32.ge_u (local.get $m) (local.get $nMels)))
            (f32.store
              (i32.add (local.get $row) (i32.shl (i32.mul (local.get $m) (local.get $melStride)) (i32.const 2)))
              (f32.demote_f64 (f64.load (i32.add (local.get $bands) (i32.shl (local.get $m) (i32.const 3))))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $store)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $frames)))))
