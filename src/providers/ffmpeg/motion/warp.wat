;; Bilinear resampling of one 8-bit picture plane for Ken Burns motion (zoom and pan, no rotation),
;; with WebAssembly SIMD: eight output pixels per step, sub-pixel positions in Q15.
;;
;; The caller (warp-plane.ts) lays out, in this module's memory:
;;   src     the source plane, `sw` bytes a row, with 16 readable bytes after its end;
;;   dst     the output plane, `dw` bytes a row, with 16 writable bytes after its end
;;           (a row's last group may spill into the next row, which overwrites it);
;;   cols    per group of 8 output columns, 64 bytes:
;;             +0  i32   source column of the group's first pixel (`base`)
;;             +16 v128  swizzle mask: left neighbour of each pixel, relative to `base` (lanes 8-15: 0xff)
;;             +32 v128  swizzle mask: right neighbour (left + 1)
;;             +48 i16x8 weight of the right neighbour, Q15 (0..32767)
;;   rows    per output row, 8 bytes: i32 source row `r` (rows r and r+1 are read), i32 weight of r+1 in Q15
;;   bufA, bufB  two rows of horizontally resampled values (i16, value * 128), groups * 16 bytes each.
;;
;; Horizontal pass: for each source row needed, once (consecutive output rows share them).
;; Vertical pass: a + (b - a) * w, rounded back to 8 bits.
(module
  (memory (export "memory") 1)

  (func $horizontal (param $row i32) (param $cols i32) (param $groups i32) (param $buf i32)
    (local $end i32) (local $v v128) (local $p0 v128) (local $p1 v128)
    (local.set $end (i32.add (local.get $cols) (i32.shl (local.get $groups) (i32.const 6))))
    (block $done
      (br_if $done (i32.ge_u (local.get $cols) (local.get $end)))
      (loop $group
        (local.set $v (v128.load (i32.add (local.get $row) (i32.load (local.get $cols)))))
        (local.set $p0 (i16x8.extend_low_i8x16_u (i8x16.swizzle (local.get $v) (v128.load offset=16 (local.get $cols)))))
        (local.set $p1 (i16x8.extend_low_i8x16_u (i8x16.swizzle (local.get $v) (v128.load offset=32 (local.get $cols)))))
        (v128.store (local.get $buf)
          (i16x8.add
            (i16x8.shl (local.get $p0) (i32.const 7))
            (i16x8.q15mulr_sat_s
              (i16x8.shl (i16x8.sub (local.get $p1) (local.get $p0)) (i32.const 7))
              (v128.load offset=48 (local.get $cols)))))
        (local.set $buf (i32.add (local.get $buf) (i32.const 16)))
        (local.set $cols (i32.add (local.get $cols) (i32.const 64)))
        (br_if $group (i32.lt_u (local.get $cols) (local.get $end))))))

  (func (export "warp")
    (param $src i32) (param $sw i32) (param $dst i32) (param $dw i32) (param $dh i32)
    (param $cols i32) (param $groups i32) (param $rows i32) (param $bufA i32) (param $bufB i32)
    (local $y i32) (local $r i32) (local $ra i32) (local $rb i32) (local $swap i32)
    (local $w v128) (local $a v128) (local $i i32) (local $end i32) (local $out i32) (local $row i32)
    (local.set $ra (i32.const -1))
    (local.set $rb (i32.const -1))
    (block $rows_done
      (br_if $rows_done (i32.le_s (local.get $dh) (i32.const 0)))
      (loop $each_row
        (local.set $row (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 3))))
        (local.set $r (i32.load (local.get $row)))
        (local.set $w (i16x8.splat (i32.load offset=4 (local.get $row))))
        ;; Row r into bufA (taken over from bufB when the previous output row read it as r+1).
        (if (i32.ne (local.get $r) (local.get $ra))
          (then
            (if (i32.eq (local.get $r) (local.get $rb))
              (then
                (local.set $swap (local.get $bufA))
                (local.set $bufA (local.get $bufB))
                (local.set $bufB (local.get $swap))
                (local.set $ra (local.get $rb))
                (local.set $rb (i32.const -1)))
              (else
                (call $horizontal (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $sw)))
                  (local.get $cols) (local.get $groups) (local.get $bufA))
                (local.set $ra (local.get $r))))))
        (if (i32.ne (i32.add (local.get $r) (i32.const 1)) (local.get $rb))
          (then
            (call $horizontal (i32.add (local.get $src) (i32.mul (i32.add (local.get $r) (i32.const 1)) (local.get $sw)))
              (local.get $cols) (local.get $groups) (local.get $bufB))
            (local.set $rb (i32.add (local.get $r) (i32.const 1)))))
        ;; Vertical pass for this output row.
        (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $dw))))
        (local.set $i (i32.const 0))
        (local.set $end (i32.shl (local.get $groups) (i32.const 4)))
        (block $groups_done
          (br_if $groups_done (i32.ge_u (local.get $i) (local.get $end)))
          (loop $each_group
            (local.set $a (v128.load (i32.add (local.get $bufA) (local.get $i))))
            (v128.store64_lane 0 (local.get $out)
              (i8x16.narrow_i16x8_u
                (local.tee $a
                  (i16x8.shr_u
                    (i16x8.add
                      (i16x8.add (local.get $a)
                        (i16x8.q15mulr_sat_s
                          (i16x8.sub (v128.load (i32.add (local.get $bufB) (local.get $i))) (local.get $a))
                          (local.get $w)))
                      (v128.const i16x8 64 64 64 64 64 64 64 64))
                    (i32.const 7)))
                (local.get $a)))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br_if $each_group (i32.lt_u (local.get $i) (local.get $end)))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $each_row (i32.lt_s (local.get $y) (local.get $dh)))))))
