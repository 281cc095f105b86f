/* Code that rewrites an instruction it has run: after IC IALLU and ISB the new
 * instruction runs (the architecture's rule for modifying code). */
main:
    bl      patched
    ldr     x6, =LOG + 0x800
    str     x0, [x6]
    adr     x1, patched
    ldr     w2, =0xd2800040                     /* mov x0, #2 */
    str     w2, [x1]
    dsb     ish
    ic      iallu
    dsb     ish
    isb
    bl      patched
    str     x0, [x6, #8]
    exit    0
    .ltorg
patched:
    mov     x0, #1
    ret
