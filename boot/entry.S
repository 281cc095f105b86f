/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * EL2 exception vectors. Every entry saves the interrupted context as a TrapFrame
 * (x0-x30, ELR_EL2, SPSR_EL2, ESR_EL2, FAR_EL2, SP at entry) below SP_EL2 and calls
 * el2_trap(frame, vector); should el2_trap return, the frame it returns is restored
 * and ERET resumes (ELR may have been changed). Layout must match
 * arch::traps::TrapFrame.
 * Included by src/arch/traps.rs with global_asm!.
 */
.macro vector kind, to
    .balign 0x80
    sub     sp, sp, #{FRAME_SIZE}
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       \to
.endm

/* The rest of the frame below SP_EL2 (x0 and x1 are in it already). */
.macro save_frame
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
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global el2_vectors
el2_vectors:
    vector 0, trap_common       /* current EL, SP_EL0: sync */
    vector 1, trap_common       /* irq */
    vector 2, trap_common       /* fiq */
    vector 3, trap_common       /* serror */
    vector 4, trap_common       /* current EL, SP_ELx: sync */
    vector 5, trap_common
    vector 6, trap_common
    vector 7, trap_common
    vector 8, trap_lower        /* lower EL, AArch64: sync */
    vector 9, trap_lower
    vector 10, trap_lower
    vector 11, trap_lower
    vector 12, trap_lower       /* lower EL, AArch32 */
    vector 13, trap_lower
    vector 14, trap_lower
    vector 15, trap_lower

/* At EL2: the frame is on the EL2 stack. */
trap_common:
    save_frame
    bl      el2_trap
    b       trap_return

/*
 * From a guest: SP_EL2 pointed just past the running vCPU's frame (trap_return left
 * it there), so the registers go straight into that frame. Rust then runs on the
 * EL2 stack, which is empty while a guest runs.
 */
trap_lower:
    save_frame
    adrp    x2, boot_stack_top
    add     sp, x2, :lo12:boot_stack_top
    bl      el2_trap

    /* trap_return: restore the frame at x0 (what el2_trap returned: the frame saved
     * above, or another vCPU's after a switch; arch::vcpu::run enters a guest the same
     * way), leave SP_EL2 just past it, and ERET. */
    .global trap_return
trap_return:
    ldp     x30, x2, [x0, #240]
    msr     elr_el2, x2
    ldp     x2, x3, [x0, #256]
    msr     spsr_el2, x2
    add     sp, x0, #{FRAME_SIZE}
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldp     x0, x1, [x0, #0]
    eret
