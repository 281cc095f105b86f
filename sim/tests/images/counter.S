/* The counter: CNTFRQ is 100 MHz and CNTPCT advances with instructions only. */
main:
    mrs     x1, cntpct_el0
    mov     x3, #1000
1:  subs    x3, x3, #1
    b.ne    1b
    mrs     x2, cntpct_el0
    mrs     x4, cntfrq_el0
    mrs     x5, cntvct_el0
    ldr     x6, =0x20000
    stp     x1, x2, [x6]
    stp     x4, x5, [x6, #16]
    exit    0
    .ltorg
