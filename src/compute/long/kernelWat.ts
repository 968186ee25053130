/**
 * The WebAssembly text of QK Scope's attention-map kernel (SIMD, 128-bit). It is assembled at
 * development time by `scripts/build_kernel.mjs` (wabt) into `kernelWasm.gen.ts`; a unit test
 * assembles this text again and checks the committed bytes are the same.
 *
 * Two variants come from one text: `fma` uses `f32x4.relaxed_madd` (a fused multiply-add on
 * x86 with FMA3, part of relaxed SIMD), `simd` a multiply and an add. The page picks `fma`
 * when `WebAssembly.validate` accepts it.
 *
 * Layouts (all f32, little-endian, byte addresses into the module's memory):
 * - queries packed in 4-row panels: `[rows/4][d][4]` (row r, dim t at `((r>>2)·d + t)·4 + (r&3)`);
 * - keys packed in 8-column panels: `[cols/8][d][8]`;
 * - scores, weights: row-major with a row stride of `stride` floats (a multiple of 8).
 */

export type KernelVariant = 'fma' | 'simd';

const v = (x: number) => `(v128.const f32x4 ${x} ${x} ${x} ${x})`;

/** a·b + c on four lanes. */
function madd(variant: KernelVariant, a: string, b: string, c: string): string {
  return variant === 'fma' ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`;
}

/**
 * e = exp(x) on four lanes for x ≤ 0 (Cephes' expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-7
 * polynomial in r and 2ⁿ built in the exponent bits). Relative error about 2e-7; x below −87.3
 * is clamped there (e ≈ 1e-38, far below a weight's resolution). Uses locals $x $fx $p.
 */
function exp4(variant: KernelVariant, into: string): string {
  const m = (a: string, b: string, c: string) => madd(variant, a, b, c);
  return `
      (local.set $x (f32x4.max (local.get $x) ${v(-87.3)}))
      (local.set $fx (f32x4.nearest (f32x4.mul (local.get $x) ${v(1.44269504088896341)})))
      (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) ${v(0.693359375)})))
      (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) ${v(-2.12194440e-4)})))
      (local.set $p ${m('(local.get $x)', v(1.9875691500e-4), v(1.3981999507e-3))})
      (local.set $p ${m('(local.get $p)', '(local.get $x)', v(8.3334519073e-3))})
      (local.set $p ${m('(local.get $p)', '(local.get $x)', v(4.1665795894e-2))})
      (local.set $p ${m('(local.get $p)', '(local.get $x)', v(1.6666665459e-1))})
      (local.set $p ${m('(local.get $p)', '(local.get $x)', v(5.0000001201e-1))})
      (local.set $p ${m('(local.get $p)', '(f32x4.mul (local.get $x) (local.get $x))', `(f32x4.add (local.get $x) ${v(1)})`)})
      (local.set ${into} (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fx)) (i32x4.splat (i32.const 127))) (i32.const 23))))`;
}

/** Horizontal max of a v128 local into an f32 expression. */
const hmax = (l: string) =>
  `(f32.max (f32.max (f32x4.extract_lane 0 (local.get ${l})) (f32x4.extract_lane 1 (local.get ${l}))) (f32.max (f32x4.extract_lane 2 (local.get ${l})) (f32x4.extract_lane 3 (local.get ${l}))))`;
const hsum = (l: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 (local.get ${l})) (f32x4.extract_lane 1 (local.get ${l}))) (f32.add (f32x4.extract_lane 2 (local.get ${l})) (f32x4.extract_lane 3 (local.get ${l}))))`;

/** Lane mask of the live columns j: `j < len` and (`j ≥ lo` or `j < sinkn`) (i32 lanes). */
const lanes = `(i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3))`;
const liveMask = `(v128.and (i32x4.lt_s ${lanes} (i32x4.splat (local.get $len))) (v128.or (i32x4.ge_s ${lanes} (i32x4.splat (local.get $lo))) (i32x4.lt_s ${lanes} (i32x4.splat (local.get $sinkn)))))`;

/**
 * Sets the masked lanes of the live span's edge vectors (or of the whole span when sink keys
 * and the window leave a gap) to `value`. Uses locals $j $a $gap $len $lo.
 */
function premask(ja: string, jb: string, value: string): string {
  const one = `(v128.store (local.get $a) (v128.bitselect (v128.load (local.get $a)) ${value} ${liveMask}))`;
  const at = (j: string) => `(local.set $j ${j}) (local.set $a (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))`;
  return `(if (i32.lt_s (local.get ${ja}) (local.get ${jb})) (then
        (if (local.get $gap)
          (then
            ${at(`(local.get ${ja})`)}
            (loop $pm
              ${one}
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br_if $pm (i32.lt_s (local.get $j) (local.get ${jb})))))
          (else
            ${at(`(local.get ${ja})`)} ${one}
            ${at(`(i32.sub (local.get ${jb}) (i32.const 4))`)} ${one}))))`;
}

/** Stores \`value\` in columns [from, to) of the row (whole vectors). Uses locals $j $a. */
function fill(from: string, to: string, value: string): string {
  return `(local.set $j ${from})
      (local.set $a (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
      (block $filled (loop $fill
        (br_if $filled (i32.ge_s (local.get $j) ${to}))
        (v128.store (local.get $a) ${value})
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $fill)))`;
}

/** The module text for one variant. */
export function kernelWat(variant: KernelVariant): string {
  const m = (a: string, b: string, c: string) => madd(variant, a, b, c);
  const accs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `(local $a${i} v128)`).join(' ');
  const zero = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `(local.set $a${i} (v128.const i32x4 0 0 0 0))`).join('\n          ');
  const fmaRow = (r: number) => `
            (local.set $x (v128.load32_splat offset=${4 * r} (local.get $qa)))
            (local.set $a${2 * r} ${m('(local.get $x)', '(local.get $k0)', `(local.get $a${2 * r})`)})
            (local.set $a${2 * r + 1} ${m('(local.get $x)', '(local.get $k1)', `(local.get $a${2 * r + 1})`)})`;
  const store = (r: number) => `
          (v128.store offset=0 (local.get $oa) (f32x4.mul (local.get $a${2 * r}) (local.get $s)))
          (v128.store offset=16 (local.get $oa) (f32x4.mul (local.get $a${2 * r + 1}) (local.get $s)))
          (local.set $oa (i32.add (local.get $oa) (local.get $ob)))`;
  return `(module
  (memory (export "memory") 1)

  ;; out[r·stride + c] = scale · Σ_t q[r, t] · k[c, t] for r < rows (a multiple of 4) and
  ;; c < nc (a multiple of 8); q, k packed in panels (see the file's comment).
  (func (export "scores") (param $q i32) (param $k i32) (param $out i32) (param $rows i32) (param $nc i32) (param $d i32) (param $stride i32) (param $scale f32)
    (local $r i32) (local $c i32) (local $qa i32) (local $ka i32) (local $kend i32) (local $oa i32) (local $ob i32)
    (local $x v128) (local $k0 v128) (local $k1 v128) (local $s v128) ${accs}
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $ob (i32.shl (local.get $stride) (i32.const 2)))
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $nc) (i32.const 0))) (then (return)))
    (loop $rows
      (local.set $c (i32.const 0))
      (loop $cols
        ${zero}
        (local.set $qa (i32.add (local.get $q) (i32.shl (i32.mul (local.get $r) (local.get $d)) (i32.const 2))))
        (local.set $ka (i32.add (local.get $k) (i32.shl (i32.mul (local.get $c) (local.get $d)) (i32.const 2))))
        (local.set $kend (i32.add (local.get $ka) (i32.shl (local.get $d) (i32.const 5))))
        (loop $dims
            (local.set $k0 (v128.load offset=0 (local.get $ka)))
            (local.set $k1 (v128.load offset=16 (local.get $ka)))${fmaRow(0)}${fmaRow(1)}${fmaRow(2)}${fmaRow(3)}
            (local.set $qa (i32.add (local.get $qa) (i32.const 16)))
            (local.set $ka (i32.add (local.get $ka) (i32.const 32)))
            (br_if $dims (i32.lt_u (local.get $ka) (local.get $kend))))
        (local.set $oa (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $stride)) (local.get $c)) (i32.const 2))))${store(0)}${store(1)}${store(2)}${store(3)}
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (br_if $cols (i32.lt_s (local.get $c) (local.get $nc))))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br_if $rows (i32.lt_s (local.get $r) (local.get $rows)))))

  ;; Row softmax in place over the first nc columns (a multiple of 4) of rows rows. Row r sees
  ;; keys j < len(r) = min(cap, len0 + r·inc) with j ≥ lo0 + r·inc or j < sinkn; the rest
  ;; become −1 (masked). Per row, stats gets
  ;; [max, Σe, Σe·(s − max), Σe·|qpos0 + r − j|] (the host turns them into entropy and distance).
  ;; The loops run over the row's live span [ja, jb) without lane masks: masked lanes inside it
  ;; (the span's two edge vectors, or a gap between sink keys and the window) are first set to
  ;; −3e38, so their e is ~1e-38 (below any weight's resolution), and set to −1 at the end.
  (func (export "softmax") (param $s i32) (param $rows i32) (param $nc i32) (param $stride i32) (param $len0 i32) (param $inc i32) (param $cap i32) (param $lo0 i32) (param $sinkn i32) (param $qpos0 f32) (param $stats i32)
    (local $r i32) (local $j i32) (local $len i32) (local $lo i32) (local $a i32) (local $row i32) (local $mx f32) (local $l f32)
    (local $ja i32) (local $jb i32) (local $gap i32) (local $end i32)
    (local $x v128) (local $y v128) (local $fx v128) (local $p v128) (local $e v128) (local $vm v128)
    (local $sum v128) (local $sex v128) (local $sed v128) (local $jf v128) (local $qp v128) (local $inv v128)
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (loop $rows
      (local.set $len (i32.add (local.get $len0) (i32.mul (local.get $r) (local.get $inc))))
      (if (i32.gt_s (local.get $len) (local.get $cap)) (then (local.set $len (local.get $cap))))
      (local.set $lo (i32.add (local.get $lo0) (i32.mul (local.get $r) (local.get $inc))))
      (local.set $row (i32.add (local.get $s) (i32.shl (i32.mul (local.get $r) (local.get $stride)) (i32.const 2))))
      ;; the live span: [ja, jb), whole vectors
      (local.set $gap (i32.and (i32.gt_s (local.get $sinkn) (i32.const 0)) (i32.gt_s (local.get $lo) (local.get $sinkn))))
      (local.set $ja (select (i32.const 0) (i32.and (select (local.get $lo) (i32.const 0) (i32.gt_s (local.get $lo) (i32.const 0))) (i32.const -4)) (i32.gt_s (local.get $sinkn) (i32.const 0))))
      (local.set $jb (i32.and (i32.add (local.get $len) (i32.const 3)) (i32.const -4)))
      (if (i32.gt_s (local.get $jb) (local.get $nc)) (then (local.set $jb (local.get $nc))))
      (if (i32.le_s (local.get $jb) (local.get $ja)) (then (local.set $jb (local.get $ja))))
      ${premask('$ja', '$jb', v(-3.0e38))}
      ;; 1: the row's max
      (local.set $vm ${v(-3.0e38)})
      (local.set $a (i32.add (local.get $row) (i32.shl (local.get $ja) (i32.const 2))))
      (local.set $end (i32.add (local.get $row) (i32.shl (local.get $jb) (i32.const 2))))
      (block $done1 (loop $max
        (br_if $done1 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $vm (f32x4.max (local.get $vm) (v128.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $max)))
      (local.set $mx ${hmax('$vm')})
      (local.set $vm (f32x4.splat (local.get $mx)))
      ;; 2: e = exp(s − max) and the sums
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $sex (v128.const i32x4 0 0 0 0))
      (local.set $sed (v128.const i32x4 0 0 0 0))
      (local.set $jf (f32x4.add (f32x4.splat (f32.convert_i32_s (local.get $ja))) (v128.const f32x4 0 1 2 3)))
      (local.set $qp (f32x4.splat (f32.add (local.get $qpos0) (f32.convert_i32_s (local.get $r)))))
      (local.set $a (i32.add (local.get $row) (i32.shl (local.get $ja) (i32.const 2))))
      (block $done2 (loop $exp
        (br_if $done2 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $y (f32x4.sub (v128.load (local.get $a)) (local.get $vm)))
        (local.set $x (local.get $y))
        ${exp4(variant, '$e')}
        (v128.store (local.get $a) (local.get $e))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
        (local.set $sex ${m('(local.get $e)', `(f32x4.max (local.get $y) ${v(-87.3)})`, '(local.get $sex)')})
        (local.set $sed ${m('(local.get $e)', '(f32x4.abs (f32x4.sub (local.get $qp) (local.get $jf)))', '(local.get $sed)')})
        (local.set $jf (f32x4.add (local.get $jf) ${v(4)}))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $exp)))
      (local.set $l ${hsum('$sum')})
      (if (i32.le_s (local.get $len) (local.get $ja)) (then (local.set $l (f32.const 0))))
      (f32.store offset=0 (local.get $stats) (local.get $mx))
      (f32.store offset=4 (local.get $stats) (local.get $l))
      (f32.store offset=8 (local.get $stats) ${hsum('$sex')})
      (f32.store offset=12 (local.get $stats) ${hsum('$sed')})
      (local.set $stats (i32.add (local.get $stats) (i32.const 16)))
      ;; 3: normalise the span, then −1 on every masked key
      (local.set $inv (f32x4.splat (f32.div (f32.const 1) (local.get $l))))
      (local.set $a (i32.add (local.get $row) (i32.shl (local.get $ja) (i32.const 2))))
      (block $done3 (loop $norm
        (br_if $done3 (i32.ge_u (local.get $a) (local.get $end)))
        (v128.store (local.get $a) (f32x4.mul (v128.load (local.get $a)) (local.get $inv)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $norm)))
      ${premask('$ja', '$jb', v(-1))}
      ${fill('(i32.const 0)', '(local.get $ja)', v(-1))}
      ${fill('(local.get $jb)', '(local.get $nc)', v(-1))}
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $r) (local.get $rows)))))

  ;; Weights of a window from known row stats: s[r, j] = exp(s − max_r)·inv_r when column
  ;; col0 + j is one of the row's len(r) keys, else −1. stats holds [max, 1/Σe] per row.
  (func (export "normalize") (param $s i32) (param $rows i32) (param $nc i32) (param $stride i32) (param $len0 i32) (param $inc i32) (param $cap i32) (param $lo0 i32) (param $sinkn i32) (param $col0 i32) (param $stats i32)
    (local $r i32) (local $j i32) (local $len i32) (local $lo i32) (local $a i32)
    (local $x v128) (local $fx v128) (local $p v128) (local $e v128) (local $vm v128) (local $inv v128)
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (local.set $sinkn (i32.sub (local.get $sinkn) (local.get $col0)))
    (loop $rows
      (local.set $len (i32.add (local.get $len0) (i32.mul (local.get $r) (local.get $inc))))
      (if (i32.gt_s (local.get $len) (local.get $cap)) (then (local.set $len (local.get $cap))))
      (local.set $len (i32.sub (local.get $len) (local.get $col0)))
      (local.set $lo (i32.sub (i32.add (local.get $lo0) (i32.mul (local.get $r) (local.get $inc))) (local.get $col0)))
      (local.set $vm (v128.load32_splat offset=0 (local.get $stats)))
      (local.set $inv (v128.load32_splat offset=4 (local.get $stats)))
      (local.set $stats (i32.add (local.get $stats) (i32.const 8)))
      (local.set $a (i32.add (local.get $s) (i32.shl (i32.mul (local.get $r) (local.get $stride)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (loop $cols
        (local.set $x (f32x4.min (f32x4.sub (v128.load (local.get $a)) (local.get $vm)) (v128.const i32x4 0 0 0 0)))
        ${exp4(variant, '$e')}
        (v128.store (local.get $a) (v128.bitselect (f32x4.mul (local.get $e) (local.get $inv)) ${v(-1)} ${liveMask}))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $cols (i32.lt_s (local.get $j) (local.get $nc))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $r) (local.get $rows)))))

  ;; out[c] = max over rows of s[r·stride + c], for c < nc (a multiple of 4).
  (func (export "colmax") (param $s i32) (param $rows i32) (param $nc i32) (param $stride i32) (param $out i32)
    (local $r i32) (local $j i32) (local $a i32) (local $o i32)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $nc) (i32.const 0))) (then (return)))
    (local.set $o (local.get $out))
    (local.set $a (local.get $s))
    (loop $first
      (v128.store (local.get $o) (v128.load (local.get $a)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br_if $first (i32.lt_s (local.get $j) (local.get $nc))))
    (local.set $r (i32.const 1))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $a (i32.add (local.get $s) (i32.shl (i32.mul (local.get $r) (local.get $stride)) (i32.const 2))))
        (local.set $o (local.get $out))
        (local.set $j (i32.const 0))
        (loop $cols
          (v128.store (local.get $o) (f32x4.max (v128.load (local.get $o)) (v128.load (local.get $a))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $cols (i32.lt_s (local.get $j) (local.get $nc))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[C] = max of src[C·f … C·f + f) ∩ [0, n), for C < ⌈n/f⌉ (the horizontal half of pooling).
  ;; Whole vectors when f is a multiple of 4 and the group is complete.
  (func (export "hpool") (param $src i32) (param $n i32) (param $f i32) (param $out i32)
    (local $C i32) (local $j i32) (local $e i32) (local $m f32) (local $vm v128) (local $vec i32)
    (local.set $vec (i32.eqz (i32.and (local.get $f) (i32.const 3))))
    (block $done (loop $groups
      (local.set $j (i32.mul (local.get $C) (local.get $f)))
      (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
      (local.set $e (i32.add (local.get $j) (local.get $f)))
      (if (i32.gt_s (local.get $e) (local.get $n)) (then (local.set $e (local.get $n))))
      (local.set $m (f32.const -1))
      (if (i32.and (local.get $vec) (i32.eq (i32.sub (local.get $e) (local.get $j)) (local.get $f)))
        (then
          (local.set $vm (f32x4.splat (f32.const -1)))
          (loop $v
            (local.set $vm (f32x4.max (local.get $vm) (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br_if $v (i32.lt_s (local.get $j) (local.get $e))))
          (local.set $m ${hmax('$vm')}))
        (else
          (loop $s
            (local.set $m (f32.max (local.get $m) (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $s (i32.lt_s (local.get $j) (local.get $e))))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $C) (i32.const 2))) (local.get $m))
      (local.set $C (i32.add (local.get $C) (i32.const 1)))
      (br $groups))))
)
`;
}
