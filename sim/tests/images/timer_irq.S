/* GICv3 and the EL2 timer: the redistributor woken, PPI 20 (the EL2 physical timer, Secure: CNTHPS)
 * and SGI 5 enabled in group 1, then:
 *  1. CNTHPS armed 1000 ticks ahead, WFI: the IRQ arrives at or after the deadline,
 *     is acknowledged as 20 and handled once (the handler disables the timer).
 *  2. SGI 5 to this core through ICC_SGI1R_EL1: acknowledged as 5.
 *  3. The timer again, left enabled: a level interrupt that re-asserts after each EOI
 *     until the third handler masks it (IMASK).
 * Results at LOG + 0x800. */
    .equ GICD, 0xaf000000
    .equ GICR_SGI, 0xaf110000
    .equ RES, LOG + 0x800
main:
    ldr     x0, =vectors_irq
    msr     vbar_el2, x0
    ldr     x0, =((1 << 31) | (1 << 4) | (1 << 3))   /* RW, IMO, FMO: IRQs to EL2 */
    msr     hcr_el2, x0
    ldr     x1, =GICD
    mov     w0, #2                                     /* EnableGrp1 */
    str     w0, [x1]
    ldr     x1, =0xaf100014                            /* GICR_WAKER */
    str     wzr, [x1]
    ldr     x1, =GICR_SGI
    ldr     w0, =((1 << 20) | (1 << 5))
    str     w0, [x1, #0x80]                            /* IGROUPR0 */
    str     w0, [x1, #0x100]                           /* ISENABLER0 */
    mov     w0, #0x80
    strb    w0, [x1, #0x400 + 20]                      /* IPRIORITYR */
    strb    w0, [x1, #0x400 + 5]
    mov     x0, #0xff
    msr     S3_0_C4_C6_0, x0                           /* ICC_PMR_EL1 */
    mov     x0, #1
    msr     S3_0_C12_C12_7, x0                         /* ICC_IGRPEN1_EL1 */
    isb
    ldr     x20, =RES
    /* 1: the timer, once */
    mrs     x2, cntpct_el0
    add     x2, x2, #1000
    str     x2, [x20]                                  /* the deadline */
    msr     S3_4_C14_C5_2, x2                          /* CNTHPS_CVAL_EL2 */
    mov     x0, #1
    msr     S3_4_C14_C5_1, x0                          /* CNTHPS_CTL_EL2: ENABLE */
    mov     x21, #1                                    /* handler mode: disable */
    msr     daifclr, #2
    wfi
    msr     daifset, #2
    /* 2: SGI 5 to Aff0 0 */
    mov     x21, #0
    ldr     x0, =((5 << 24) | 1)
    msr     daifclr, #2
    msr     S3_0_C12_C11_5, x0                         /* ICC_SGI1R_EL1 */
    isb
    nop
    nop
    msr     daifset, #2
    /* 3: level: re-asserts until masked on the third entry */
    mov     x21, #2
    mrs     x2, cntpct_el0
    msr     S3_4_C14_C5_2, x2                          /* due now */
    mov     x0, #1
    msr     S3_4_C14_C5_1, x0
    msr     daifclr, #2
    isb
1:  ldr     x3, [x20, #40]
    cmp     x3, #3
    b.lo    1b
    msr     daifset, #2
    exit    0
    .ltorg

    .balign 0x800
vectors_irq:
    .rept 5
    .balign 0x80
    b       .                                          /* unexpected */
    .endr
    .balign 0x80                                       /* 0x280: current EL SPx IRQ */
    b       irq
    .rept 10
    .balign 0x80
    b       .
    .endr
irq:
    mrs     x9, S3_0_C12_C12_0                         /* ICC_IAR1_EL1 */
    mrs     x10, cntpct_el0
    cmp     x21, #0
    b.eq    2f
    cmp     x21, #1
    b.eq    1f
    /* mode 2: count, mask on the third */
    ldr     x11, [x20, #40]
    add     x11, x11, #1
    str     x11, [x20, #40]
    cmp     x11, #3
    b.lo    3f
    mov     x0, #3                                     /* ENABLE | IMASK */
    msr     S3_4_C14_C5_1, x0
    b       3f
1:  stp     x9, x10, [x20, #8]                         /* INTID, count at entry */
    ldr     x11, [x20, #24]
    add     x11, x11, #1
    str     x11, [x20, #24]                            /* times handled */
    msr     S3_4_C14_C5_1, xzr                         /* timer off */
    b       3f
2:  str     x9, [x20, #32]                             /* the SGI's INTID */
3:  isb
    msr     S3_0_C12_C12_1, x9                         /* ICC_EOIR1_EL1 */
    eret
