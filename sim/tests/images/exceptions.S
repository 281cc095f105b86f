/* Exception entry and return: HVC, SVC, BRK, UDF and a non-semihosting HLT at EL2,
 * then ERET to EL1 and an HVC from there (lower-EL vector, SPSR of EL1h). */
main:
    setup_vectors
    hvc     #0x42                               /* 1 */
    svc     #0x7                                /* 2 */
    brk     #0x3                                /* 3 */
    udf     #0                                  /* 4 */
    hlt     #0x1                                /* 5 */
    mov     x0, #(1 << 31)                      /* HCR_EL2.RW: EL1 is AArch64 */
    msr     hcr_el2, x0
    ldr     x28, =back_at_el2
    ldr     x0, =at_el1
    msr     elr_el2, x0
    mov     x0, #0x3c5                          /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    isb
    eret
at_el1:
    hvc     #0x99                               /* 6: from EL1 */
    b       .
back_at_el2:
    mrs     x0, CurrentEL
    ldr     x6, =LOG + 0x800
    str     x0, [x6]
    exit    0
    .ltorg
