/* A WFI that traps to EL2 (HCR_EL2.TWI) does not execute: EL2 skips it (ELR + 4) and
 * the guest goes on at once. Unlike a WFI that executes with nothing pending, it must
 * not make time jump to the next timer deadline, not even on the ERET that returns
 * to the instruction after it. EL2 arms its timer (CNTHPS) far ahead, with the GIC
 * off (no interrupt is delivered), and runs a guest at EL1 that executes WFI, then
 * HVC #0. Results at LOG + 0x800:
 *   +0: the deadline (CNTPCT when armed + 1,000,000)
 *   +8: ESR_EL2 of the WFI trap
 *  +16: CNTPCT_EL0 when the HVC reached EL2 */
    .equ RES, LOG + 0x800
main:
    ldr     x0, =vectors_w
    msr     vbar_el2, x0
    ldr     x0, =((1 << 31) | (1 << 13))            /* RW, TWI */
    msr     hcr_el2, x0
    ldr     x20, =RES
    mrs     x2, cntpct_el0
    ldr     x3, =1000000
    add     x2, x2, x3
    str     x2, [x20]
    msr     S3_4_C14_C5_2, x2                        /* CNTHPS_CVAL_EL2 */
    mov     x0, #1
    msr     S3_4_C14_C5_1, x0                        /* CNTHPS_CTL_EL2: ENABLE */
    ldr     x0, =guest
    msr     elr_el2, x0
    mov     x0, #0x3c5                               /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    isb
    eret

guest:
    wfi
    nop
    hvc     #0
    b       .

    .ltorg

lower_sync:
    mrs     x0, esr_el2
    lsr     x1, x0, #26
    cmp     x1, #0x01                                /* WFI/WFE trapped */
    b.ne    1f
    str     x0, [x20, #8]
    mrs     x0, elr_el2
    add     x0, x0, #4
    msr     elr_el2, x0
    eret
1:  mrs     x0, cntpct_el0
    str     x0, [x20, #16]
    exit    0

unexpected:
    exit    1

    .balign 0x800
vectors_w:
    .rept 8
    .balign 0x80
    b       unexpected
    .endr
    .balign 0x80                                     /* 0x400: lower EL, AArch64 sync */
    b       lower_sync
    .rept 7
    .balign 0x80
    b       unexpected
    .endr
