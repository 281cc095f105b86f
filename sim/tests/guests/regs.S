/* A dom0less guest that checks its own registers survive every way rxen takes the
 * CPU from it: SCHEDOP_yield, SCHEDOP_block, a trapped WFI (block) and WFE (yield),
 * and preemption by the EL2 timer in a long loop. Before each step it fills x0-x30
 * with a pattern of its own load address ((_start << 4) + n for xn), so two copies
 * of it at different addresses hold different values, and sets Z and C; after each
 * step it checks the flags, SP_EL1 and every register (a hypercall returns 0 in x0
 * and leaves x16 = 29; the loop leaves x0 = 0). It prints "regs ok ..." and powers
 * off, or "REGS BAD step S RR" (RR: the register, 32 for SP, 33 for the flags) and
 * crashes. Position independent. */
    .equ VPL011, 0x22000000

/* x0-x30 := (_start << 4) + n */
.macro fill
    adr     x29, _start
    lsl     x29, x29, #4
    add     x0, x29, #0
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,30
    add     x\r, x29, #\r
    .endr
    add     x29, x29, #29
.endm

/* Check the flags (Z = 1, C = 1), SP and the registers after step \step. \x0v: what
 * x0 must hold (-1: its pattern); \hc: a hypercall, so x16 holds 29 (when \x0v >= 0). */
.macro check step, x0v, hc=1
    b.ne    90f
    b.cc    90f
    sub     sp, sp, #256
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mov     x20, #\step
    mov     x21, #32
    mov     x3, sp
    add     x3, x3, #256
    adr     x4, stack_top
    cmp     x3, x4
    b.ne    bad
    adr     x1, _start
    lsl     x1, x1, #4
    mov     x21, #0
91: ldr     x3, [sp, x21, lsl #3]
    add     x4, x1, x21
    .if \x0v >= 0
    cmp     x21, #0
    b.ne    92f
    mov     x4, #\x0v
    b       93f
92:
    .if \hc
    cmp     x21, #16
    b.ne    93f
    mov     x4, #29
    .endif
    .endif
93: cmp     x3, x4
    b.ne    bad
    add     x21, x21, #1
    cmp     x21, #31
    b.lo    91b
    add     sp, sp, #256
    b       94f
90: mov     x20, #\step
    mov     x21, #33
    b       bad
94:
.endm

    .section .text.boot, "ax"
    .global _start
_start:
    adr     x1, stack_top
    mov     sp, x1

    /* 1: SCHEDOP_yield */
    fill
    mov     x0, #0
    mov     x16, #29
    cmp     x29, x29                /* Z = 1, C = 1 */
    hvc     #0xea1
    check   1, 0
    /* 2: SCHEDOP_block */
    fill
    mov     x0, #1
    mov     x16, #29
    cmp     x29, x29
    hvc     #0xea1
    check   2, 0
    /* 3: WFI (trapped: the vCPU blocks) */
    fill
    cmp     x29, x29
    wfi
    check   3, -1
    /* 4: WFE (trapped: the vCPU yields) */
    fill
    cmp     x29, x29
    wfe
    check   4, -1
    /* 5: a loop long enough to be preempted by the tick many times */
    fill
    movz    x0, #0x20, lsl #16
9:  subs    x0, x0, #1
    b.ne    9b
    cmp     x29, x29
    check   5, 0, 0
    /* 6: yield again after being preempted */
    fill
    mov     x0, #0
    mov     x16, #29
    cmp     x29, x29
    hvc     #0xea1
    check   6, 0

    adr     x1, msg_ok
    bl      puts
    mov     x0, #2                  /* SCHEDOP_shutdown */
    adr     x1, reason
    mov     x16, #29
    hvc     #0xea1
    b       .

/* Print the NUL-terminated string at x1 through the vpl011. */
puts:
    mov     x2, #VPL011
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
    str     w3, [x2]
    b       1b
2:  ret

/* x20 = step, x21 = register (32: SP, 33: the flags) */
bad:
    adr     x1, msg_bad
    bl      puts
    mov     x2, #VPL011
    add     w3, w20, #'0'
    str     w3, [x2]
    mov     w3, #' '
    str     w3, [x2]
    lsr     x4, x21, #4
    add     w3, w4, #'0'
    str     w3, [x2]
    and     x4, x21, #15
    add     w3, w4, #'0'
    str     w3, [x2]
    mov     w3, #'\n'
    str     w3, [x2]
    mov     x0, #2
    adr     x1, reason_crash
    mov     x16, #29
    hvc     #0xea1
    b       .

    .ltorg
    .balign 4
reason: .word 0                     /* SHUTDOWN_poweroff */
reason_crash: .word 3               /* SHUTDOWN_crash */
msg_ok:  .asciz "regs ok across yield, block, wfi, wfe, preemption\n"
msg_bad: .asciz "REGS BAD step "
    .balign 16
stack: .space 1024
stack_top:
