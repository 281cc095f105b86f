/* EL1 under the EL2 MPU as stage 2 (Armv8-R AArch64 supplement). EL2 maps:
 *   0: [0x00000, 0x1ffff] code, RO, executable at EL1 and EL2, EL1 access
 *   1: [0x20000, 0x21fff] the log: RW, XN, EL2 only
 *   2: [0x30000, 0x30fff] guest data: RW, XN, EL1 access
 *   3: [0x31000, 0x31fff] guest read-only: RO, XN, EL1 access
 * and runs the guest at EL1 with HCR_EL2.{VM, TWI, TSC, TVM, TID3}. Each guest
 * access below that stage 2 refuses is logged by EL2 (ESR, FAR, ELR, SPSR, offset,
 * HPFAR) and skipped. HVC #1 switches region 2 off with PRENR and returns; HVC #2
 * ends the run; then an ERET to EL3 (there is none) must be an illegal return. */
    .equ LOG2, 0x21000                          /* 64-byte entries, count at LOG2 */
main:
    ldr     x0, =vectors2
    msr     vbar_el2, x0
    region  0, 0x00000, 0x1ffff, 0x0c, 0x1      /* RO, EL1 access, executable */
    region  1, 0x20000, 0x21fff, 0x02, 0x1      /* RW, EL2 only, XN */
    region  2, 0x30000, 0x30fff, 0x06, 0x1      /* RW, EL1 access, XN */
    region  3, 0x31000, 0x31fff, 0x0e, 0x1      /* RO, EL1 access, XN */
    mpu_on
    ldr     x0, =((1 << 31) | (1 << 0) | (1 << 13) | (1 << 19) | (1 << 26) | (1 << 18))
    msr     hcr_el2, x0                         /* RW VM TWI TSC TVM TID3 */
    ldr     x0, =guest
    msr     elr_el2, x0
    mov     x0, #0x3c5                          /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    isb
    eret

guest:
    ldr     x1, =0x30000
    mov     x2, #0x55
    str     x2, [x1]                            /* allowed */
    ldr     x3, [x1]
    ldr     x1, =0x20000
    ldr     x4, [x1]                            /* 1: EL2-only region: permission */
    ldr     x1, =0x31008
    str     w2, [x1]                            /* 2: read-only: permission, write */
    ldr     x1, =0x40010
    ldr     x5, [x1]                            /* 3: no region: translation */
    wfi                                         /* 4: TWI */
    smc     #0x12                               /* 5: TSC */
    mrs     x6, id_aa64mmfr0_el1                /* 6: TID3 */
    msr     sctlr_el1, x2                       /* 7: TVM */
    hvc     #1                                  /* 8: EL2 disables region 2 */
    ldr     x1, =0x30000
    ldr     x7, [x1]                            /* 9: region 2 is off: translation */
    hvc     #2                                  /* 10: done */
    b       .

el2_done:
    ldr     x6, =LOG + 0x800
    str     x3, [x6]                            /* the guest's own load */
    mrs     x0, CurrentEL
    str     x0, [x6, #8]
    /* An ERET to EL3, which this core does not have, is an illegal return: the
     * next instruction takes EC 0x0e at EL2 with SPSR.IL set. */
    ldr     x0, =after_illegal
    msr     elr_el2, x0
    mov     x0, #0x3cd
    msr     spsr_el2, x0
    isb
    eret
after_illegal:
    b       .                                   /* never runs: the vector ends it */

    vector_table vectors2, log2

log2:
    mrs     x9, esr_el2
    mrs     x10, far_el2
    mrs     x11, elr_el2
    mrs     x12, spsr_el2
    mrs     x17, hpfar_el2
    ldr     x13, =LOG2
    ldr     x14, [x13]
    add     x15, x13, #64
    lsl     x18, x14, #6
    add     x15, x15, x18
    stp     x9, x10, [x15]
    stp     x11, x12, [x15, #16]
    stp     x16, x17, [x15, #32]
    add     x14, x14, #1
    str     x14, [x13]
    ubfx    x15, x9, #26, #6
    cmp     x15, #0x0e                          /* illegal state: the end */
    b.eq    9f
    cmp     x15, #0x16                          /* HVC */
    b.eq    7f
    add     x11, x11, #4                        /* skip the trapped instruction */
    msr     elr_el2, x11
    eret
7:  and     x9, x9, #0xffff
    cmp     x9, #2
    b.eq    el2_done_from_guest
    mov     x0, #(1 << 2)                       /* PRENR: region 2 off, others on */
    mov     x0, #0xb
    msr     S3_4_C6_C1_1, x0                    /* PRENR_EL2 */
    isb
    eret
el2_done_from_guest:
    b       el2_done
9:  exit    0
    .ltorg
