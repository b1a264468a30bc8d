;; The string scanner behind lib/wire/reply-skeleton.ts; `npm run gen` compiles it into
;; string-spans.generated.ts (wabt), and `npm run gen:check` fails when that file is stale.
;;
;; It walks one JSON text (bytes 0..len of memory) the way a JSON lexer does: outside strings any
;; byte but `"` is skipped, since the parse that follows checks structure; inside a string every
;; byte is checked exactly as JSON's grammar says (no byte below 0x20; only the escapes
;; \" \\ \/ \b \f \n \r \t and \u with four hex digits). Runs of plain bytes are passed 16 at a time.
;; Bytes of 0x80 and above are plain here: in UTF-8 they only ever stand for characters at or above
;; U+0080, which JSON allows anywhere in a string.
(module
  (memory (export "memory") 1)
  ;; scan(len, out, min) -> the number of string interiors of `min` bytes or more, written at `out`
  ;; as (start, end) i32 pairs (end is the closing quote); or -1 when a string is invalid or unclosed.
  (func (export "scan") (param $len i32) (param $out i32) (param $min i32) (result i32)
    (local $i i32) (local $n i32) (local $c i32) (local $s i32) (local $e i32) (local $m i32) (local $v v128) (local $k i32)
    (block $done
      (loop $outside
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $outside)))
        (local.set $s (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (local.get $s))
        (block $closed
          (loop $inside
            ;; 16 bytes at a time while none is a quote, a backslash or a control byte
            (block $special
              (loop $fast
                (br_if $special (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
                (local.set $v (v128.load (local.get $i)))
                (local.set $m (i8x16.bitmask (v128.or (v128.or
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92))))
                  (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 32))))))
                (if (i32.eqz (local.get $m)) (then (local.set $i (i32.add (local.get $i) (i32.const 16))) (br $fast)))
                (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))))
            (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const -1))))
            (local.set $c (i32.load8_u (local.get $i)))
            (br_if $closed (i32.eq (local.get $c) (i32.const 34)))
            (if (i32.eq (local.get $c) (i32.const 92))
              (then
                (if (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len)) (then (return (i32.const -1))))
                (local.set $e (i32.load8_u (i32.add (local.get $i) (i32.const 1))))
                (if (i32.eq (local.get $e) (i32.const 117)) ;; \uXXXX
                  (then
                    (if (i32.gt_u (i32.add (local.get $i) (i32.const 6)) (local.get $len)) (then (return (i32.const -1))))
                    (local.set $k (i32.const 2))
                    (loop $hex
                      (local.set $c (i32.load8_u (i32.add (local.get $i) (local.get $k))))
                      (if (i32.eqz (i32.or (i32.or
                            (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
                            (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 6)))
                            (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 6))))
                        (then (return (i32.const -1))))
                      (local.set $k (i32.add (local.get $k) (i32.const 1)))
                      (br_if $hex (i32.lt_u (local.get $k) (i32.const 6))))
                    (local.set $i (i32.add (local.get $i) (i32.const 6)))
                    (br $inside)))
                ;; the one-letter escapes: " \ / b f n r t
                (if (i32.eqz (i32.or (i32.or (i32.or (i32.eq (local.get $e) (i32.const 34)) (i32.eq (local.get $e) (i32.const 92)))
                                             (i32.or (i32.eq (local.get $e) (i32.const 47)) (i32.eq (local.get $e) (i32.const 98))))
                                     (i32.or (i32.or (i32.eq (local.get $e) (i32.const 102)) (i32.eq (local.get $e) (i32.const 110)))
                                             (i32.or (i32.eq (local.get $e) (i32.const 114)) (i32.eq (local.get $e) (i32.const 116))))))
                  (then (return (i32.const -1))))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $inside)))
            (if (i32.lt_u (local.get $c) (i32.const 32)) (then (return (i32.const -1))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $inside)))
        ;; $i is at the closing quote
        (if (i32.ge_u (i32.sub (local.get $i) (local.get $s)) (local.get $min))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))) (local.get $s))
            (i32.store (i32.add (local.get $out) (i32.add (i32.shl (local.get $n) (i32.const 3)) (i32.const 4))) (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outside)))
    (local.get $n)))
