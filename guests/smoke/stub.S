// SPDX-License-Identifier: GPL-2.0-only
// A stand-in for the hypervisor, only to smoke-test the guests in r82sim until rxen
// runs them: NOT rxen and no isolation (no stage 2). At EL2 it enters the guest at
// GUEST_BASE in EL1h with DAIF masked and x0 = GUEST_DTB (its device tree), and
// answers Xen's hypercalls: console_io(write) to UART0, xen_version 4.20,
// sched_op yield/block (0) and shutdown (semihosting exit with the reason as status);
// anything else -ENOSYS. A trapped SMC returns -1. Any other exception: exit 120.
    .section .text.boot, "ax"
    .global _start
_start:
    adrp    x1, stack_top
    add     x1, x1, :lo12:stack_top
    mov     sp, x1
    adrp    x1, el2_vectors
    add     x1, x1, :lo12:el2_vectors
    msr     vbar_el2, x1
    mov     x1, #(1 << 31)          // HCR_EL2.RW
    orr     x1, x1, #(1 << 19)      // TSC: SMC traps to EL2
    msr     hcr_el2, x1
    ldr     x1, =0x30d00800         // SCTLR_EL1: RES1 bits, MPU off
    msr     sctlr_el1, x1
    ldr     x1, =GUEST_BASE
    msr     elr_el2, x1
    mov     x1, #0x3c5              // EL1h, DAIF masked
    msr     spsr_el2, x1
    isb
    ldr     x0, =GUEST_DTB
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    eret

exit:                               // x1 = status
    adrp    x2, exit_block
    add     x2, x2, :lo12:exit_block
    ldr     x3, =0x20026            // ADP_Stopped_ApplicationExit
    stp     x3, x1, [x2]
    mov     x1, x2
    mov     x0, #0x18               // SYS_EXIT
    hlt     #0xf000
    b       .

// Xen's ABI lets a hypercall clobber only x16 and its argument registers: everything
// else the stub uses is saved on the EL2 stack and restored by `resume`.
lower_sync:
    stp     x9, x10, [sp, #-16]!
    stp     x11, x12, [sp, #-16]!
    stp     x13, x14, [sp, #-16]!
    str     x15, [sp, #-16]!
    mrs     x9, esr_el2
    lsr     x10, x9, #26
    cmp     x10, #0x17              // SMC (trapped): SMCCC NOT_SUPPORTED, skip it
    b.eq    smc
    cmp     x10, #0x16              // HVC
    b.ne    unexpected
    and     x11, x9, #0xffff
    mov     x12, #0xea1
    cmp     x11, x12
    b.ne    unexpected
    cmp     x16, #18
    b.eq    console_io
    cmp     x16, #17
    b.eq    xen_version
    cmp     x16, #29
    b.eq    sched_op
enosys:
    mov     x0, #-38
resume:
    ldr     x15, [sp], #16
    ldp     x13, x14, [sp], #16
    ldp     x11, x12, [sp], #16
    ldp     x9, x10, [sp], #16
    eret
console_io:
    cbnz    x0, enosys
    mov     x13, x1
    mov     x14, x2
    ldr     x15, =0x9c090000
1:  cbz     x13, 2f
    ldrb    w12, [x14], #1
    str     w12, [x15]
    sub     x13, x13, #1
    b       1b
2:  mov     x0, x1
    b       resume
xen_version:
    movz    x0, #0x4, lsl #16
    movk    x0, #20
    b       resume
sched_op:
    cmp     x0, #2
    b.eq    3f
    cmp     x0, #1
    b.hi    enosys
    mov     x0, xzr
    b       resume
3:  ldr     w1, [x1]
    b       exit
smc:
    mov     x0, #-1
    mrs     x9, elr_el2
    add     x9, x9, #4
    msr     elr_el2, x9
    b       resume
unexpected:
    mov     x1, #120
    b       exit

    .balign 0x800
el2_vectors:
    .rept   8
    .balign 0x80
    b       unexpected
    .endr
    .balign 0x80
    b       lower_sync              // lower EL, AArch64, sync
    .rept   7
    .balign 0x80
    b       unexpected
    .endr

    .section .bss
    .balign 16
exit_block:
    .skip   16
    .skip   4096
stack_top:
