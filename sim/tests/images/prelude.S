/* Shared by the r82sim test images: MPU region setup, semihosting exit, and an EL2
 * vector table that logs every exception at LOG (count, then 48-byte entries: ESR,
 * FAR, ELR, SPSR, vector offset) and resumes: after the instruction for aborts of
 * data, UDF and BRK; at x30 for instruction aborts (tests reach them with BLR); as is
 * for SVC/HVC; from a lower EL, at EL2h at x28. */
    .equ LOG, 0x20000

    .macro region idx, base, last, bar, lar
    mov     x0, #\idx
    msr     S3_4_C6_C2_1, x0            /* PRSELR_EL2 */
    isb
    ldr     x0, =(\base | \bar)
    msr     S3_4_C6_C8_0, x0            /* PRBAR_EL2 */
    ldr     x0, =((\last & ~0x3f) | \lar)
    msr     S3_4_C6_C8_1, x0            /* PRLAR_EL2 */
    dsb     sy
    isb
    .endm

    /* MPU on with WXN, background region off. */
    .macro mpu_on
    mrs     x0, sctlr_el2
    ldr     x1, =((1 << 0) | (1 << 19))
    orr     x0, x0, x1
    ldr     x1, =(1 << 17)
    bic     x0, x0, x1
    msr     sctlr_el2, x0
    isb
    .endm

    .macro exit code
    ldr     x1, =9998f
    mov     x0, #0x18
    hlt     #0xf000
    b       .
    .balign 8
9998: .quad 0x20026, \code
    .endm

    /* A 2 KiB-aligned vector table at LABEL: each of the 16 entries puts its own
     * offset in x16 and branches to HANDLER. */
    .macro vector_table label, handler
    .balign 0x800
\label:
    .set vi, 0
    .rept 16
    .balign 0x80
    mov     x16, #(vi * 0x80)
    b       \handler
    .set vi, vi + 1
    .endr
    .endm

    .macro setup_vectors
    ldr     x0, =vectors
    msr     vbar_el2, x0
    isb
    .endm

    .section .text.boot, "ax"
    .global _start
_start:
    /* RAM is not zero at reset (r82sim fills it, as the FVP leaves it): clear the
     * log and the result words the tests read, [LOG, LOG + 0x2000). */
    ldr     x0, =LOG
    add     x1, x0, #0x2000
0:  stp     xzr, xzr, [x0], #16
    cmp     x0, x1
    b.lo    0b
    b       main

    vector_table vectors, log_exception

log_exception:
    mrs     x9, esr_el2
    mrs     x10, far_el2
    mrs     x11, elr_el2
    mrs     x12, spsr_el2
    ldr     x13, =LOG
    ldr     x14, [x13]
    add     x15, x13, #8
    mov     x17, #48
    madd    x15, x14, x17, x15
    stp     x9, x10, [x15]
    stp     x11, x12, [x15, #16]
    str     x16, [x15, #32]
    add     x14, x14, #1
    str     x14, [x13]
    ubfx    x15, x9, #26, #6
    cmp     x16, #0x400
    b.hs    9f
    cmp     x15, #0x21
    b.eq    8f
    cmp     x15, #0x15
    b.eq    7f
    cmp     x15, #0x16
    b.eq    7f
    add     x11, x11, #4
    msr     elr_el2, x11
7:  eret
8:  msr     elr_el2, x30
    eret
9:  msr     elr_el2, x28
    mov     x15, #0x3c9
    msr     spsr_el2, x15
    eret
    .ltorg
