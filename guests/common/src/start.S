// SPDX-License-Identifier: GPL-2.0-only
// Start code and EL1 vector table of every rxen test guest.
//
// Entry (Xen's boot protocol for arm64 kernels, as dom0less domUs get it): EL1h,
// DAIF masked, EL1 MPU off, x0 = physical address of this guest's device tree.
// The image is a position-independent executable linked at 0: before any Rust runs,
// this code applies the R_AARCH64_RELATIVE entries of .rela.dyn with the address the
// image was loaded at, zeroes bss (RAM is not zero on the FVP), sets the stack and
// VBAR_EL1, and calls guest_entry(dtb, load_address) (defined by guest_main!).
// Everything here is PC-relative (adrp/add), so it runs before relocation.

    .section .text.head, "ax"
    .global _start
// arm64 Linux Image header (Documentation/arch/arm64/booting.rst), 64 bytes: Xen's
// kernel_zimage64_probe wants the magic; it loads at RAM base + text_offset and
// reserves image_size bytes (bss and stack included) before placing the DT.
_start:
    b       xg_reset            // code0
    .long   0                   // code1
    .quad   0                   // text_offset
    .quad   __image_size        // image_size: file, bss and stack, 4 KiB rounded
    .quad   0xa                 // flags: little endian, 4 KiB pages, anywhere in RAM
    .quad   0                   // res2
    .quad   0                   // res3
    .quad   0                   // res4
    .ascii  "ARM\x64"           // magic
    .long   0                   // res5

xg_reset:
    msr     daifset, #0xf
    mov     x19, x0             // device tree
    adrp    x20, __image_start  // where we were loaded
    add     x20, x20, :lo12:__image_start
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1

    // Relocate: *(load + r_offset) = load + r_addend for each R_AARCH64_RELATIVE.
    adrp    x1, __rela_start
    add     x1, x1, :lo12:__rela_start
    adrp    x2, __rela_end
    add     x2, x2, :lo12:__rela_end
1:  cmp     x1, x2
    b.hs    2f
    ldp     x3, x4, [x1], #16   // r_offset, r_info
    ldr     x5, [x1], #8        // r_addend
    cmp     x4, #1027           // R_AARCH64_RELATIVE, symbol 0
    b.ne    xg_bad_reloc
    add     x5, x5, x20
    str     x5, [x20, x3]
    b       1b

    // Zero bss (16-byte aligned both ends, see guest.ld).
2:  adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
3:  cmp     x1, x2
    b.hs    4f
    stp     xzr, xzr, [x1], #16
    b       3b

4:  adrp    x1, xg_vectors
    add     x1, x1, :lo12:xg_vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    mov     x1, x20
    bl      guest_entry
5:  wfi
    b       5b

// A relocation this code does not know: nothing can print yet, so ask the hypervisor
// to crash the domain (sched_op(SCHEDOP_shutdown, &reason) with reason SHUTDOWN_crash).
xg_bad_reloc:
    mov     x0, #3
    str     x0, [sp, #-16]!
    mov     x0, #2
    mov     x1, sp
    mov     x16, #29
    hvc     #0xea1
6:  wfi
    b       6b

// EL1 vectors: 4 groups (current EL SP0, current EL SPx, lower EL A64, lower EL A32)
// of 4 kinds (sync, IRQ, FIQ, SError). Each entry saves x0/x1, puts its index in x0
// and joins xg_exc_common, which saves the rest as a `Frame` (exceptions.rs) and calls
// xg_handle_exception(&mut Frame); ELR/SPSR and the registers come back from the
// frame, so the handler can skip an instruction or return from a call.
    .section .text.vectors, "ax"
    .balign 0x800
    .global xg_vectors
xg_vectors:
    .irp    kind, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 0x80
    sub     sp, sp, #288
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       xg_exc_common
    .endr

xg_exc_common:
    str     x0, [sp, #248]      // kind
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
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #256]
    mrs     x1, esr_el1
    mrs     x2, far_el1
    stp     x1, x2, [sp, #272]
    mov     x0, sp
    bl      xg_handle_exception
    ldp     x1, x2, [sp, #256]
    msr     elr_el1, x1
    msr     spsr_el1, x2
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
    ldr     x30, [sp, #240]
    add     sp, sp, #288
    eret
