/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * EL2 exception vectors. Every entry saves the interrupted context as a TrapFrame
 * (x0-x30, ELR_EL2, SPSR_EL2, ESR_EL2, FAR_EL2, SP at entry) and calls
 * el2_trap(frame, vector); should el2_trap return, the frame is restored and ERET
 * resumes (ELR may have been changed). Layout must match arch::traps::TrapFrame.
 * Included by src/arch/traps.rs with global_asm!.
 */
.macro vector kind
    .balign 0x80
    sub     sp, sp, #{FRAME_SIZE}
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       trap_common
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global el2_vectors
el2_vectors:
    vector 0        /* current EL, SP_EL0: sync */
    vector 1        /* irq */
    vector 2        /* fiq */
    vector 3        /* serror */
    vector 4        /* current EL, SP_ELx: sync */
    vector 5
    vector 6
    vector 7
    vector 8        /* lower EL, AArch64: sync */
    vector 9
    vector 10
    vector 11
    vector 12       /* lower EL, AArch32 */
    vector 13
    vector 14
    vector 15

trap_common:
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
    mrs     x2, elr_el2
    stp     x30, x2, [sp, #240]
    mrs     x2, spsr_el2
    mrs     x3, esr_el2
    stp     x2, x3, [sp, #256]
    mrs     x2, far_el2
    add     x3, sp, #{FRAME_SIZE}
    stp     x2, x3, [sp, #272]
    /* x0 = vector kind: pass (frame, kind). */
    mov     x1, x0
    mov     x0, sp
    bl      el2_trap
    /* trap_return: restore the frame at sp and ERET (also the way into a guest from
     * setup: arch::vcpu::run puts the guest's frame at the top of the stack). */
    .global trap_return
trap_return:
    ldp     x30, x2, [sp, #240]
    msr     elr_el2, x2
    ldp     x2, x3, [sp, #256]
    msr     spsr_el2, x2
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #{FRAME_SIZE}
    eret
