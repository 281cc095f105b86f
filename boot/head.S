/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rxen boot head: the first code every core runs, at EL2 with the MPU and caches off.
 *
 * It owns: parking secondary cores, refusing any EL but EL2, programming the boot MPU
 * regions (recorded in boot_mpu_record for Rust to rebuild its mirror), enabling the
 * MPU with no background region, zeroing bss (all but the boot stack), the boot stack
 * and VBAR_EL2. It must not touch memory outside the image and the early UART, and
 * must not rely on unaligned accesses (they fault while the MPU is off).
 *
 * Included by src/arch/head.rs with global_asm!; the brace-named operands are constants from
 * Rust (one definition each: MAIR layout, region encodings, the UART base).
 *
 * Register use until start_xen: x21 = DTB pointer from the loader, x22 = MPUIR count,
 * x23 = boot record cursor.
 */


.macro adr_l reg, sym
    adrp    \reg, \sym
    add     \reg, \reg, :lo12:\sym
.endm

/* Print the NUL-terminated string at label \msg on the early UART. Clobbers x0-x3, lr. */
.macro early_print msg
    adr_l   x0, \msg
    bl      early_puts
.endm

/*
 * Program EL2 MPU region \idx as [x4, x5) with PRBAR flags \bar and PRLAR flags \lar,
 * and append (index, PRBAR, PRLAR) to the boot record at x23.
 */
.macro boot_region idx, bar, lar
    mov     x3, #\idx
    sub     x5, x5, #1
    bic     x5, x5, #0x3f               /* LIMIT: last byte, 64-byte granule */
    mov     x6, #\bar
    orr     x4, x4, x6
    mov     x6, #\lar
    orr     x5, x5, x6
    msr     S3_4_C6_C2_1, x3            /* PRSELR_EL2 */
    isb                                 /* the selection reaches PRBAR/PRLAR */
    msr     S3_4_C6_C8_0, x4            /* PRBAR_EL2 */
    msr     S3_4_C6_C8_1, x5            /* PRLAR_EL2 */
    stp     x3, x4, [x23], #16
    str     x5, [x23], #8
.endm

    .section .text.header, "ax"
    .global _start
_start:
    mov     x21, x0                     /* DTB, arm64 boot protocol */

    /* Only the core with affinity 0.0.0.0 boots; the others wait in the pen. */
    mrs     x1, mpidr_el1
    mov     x2, #0xffffff
    movk    x2, #0xff, lsl #32
    ands    xzr, x1, x2
    b.ne    secondary_pen

    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    not_at_el2

    msr     spsel, #1
    mrs     x22, S3_4_C0_C0_4           /* MPUIR_EL2 */
    and     x22, x22, #0xff
    cmp     x22, #{NR_BOOT_REGIONS}
    b.lo    too_few_regions

    /* The record starts with the implemented count and the number of entries. */
    adr_l   x23, boot_mpu_record
    mov     x1, #{NR_BOOT_REGIONS}
    stp     x22, x1, [x23], #16

    ldr     x1, ={MAIR}
    msr     mair_el2, x1

    /* Disable every region first, so no stale region overlaps ours. */
    mov     x3, #0
1:  msr     S3_4_C6_C2_1, x3            /* PRSELR_EL2 */
    isb
    msr     S3_4_C6_C8_1, xzr           /* PRLAR_EL2: EN = 0 */
    msr     S3_4_C6_C8_0, xzr           /* PRBAR_EL2 */
    add     x3, x3, #1
    cmp     x3, x22
    b.lo    1b

    adr_l   x4, _stext
    adr_l   x5, _etext
    boot_region 0, {TEXT_BAR}, {NORMAL_LAR}
    adr_l   x4, _srodata
    adr_l   x5, _erodata
    boot_region 1, {RO_BAR}, {NORMAL_LAR}
    adr_l   x4, _sdata
    adr_l   x5, _edata
    boot_region 2, {RW_BAR}, {NORMAL_LAR}
    adr_l   x4, __init_begin
    adr_l   x5, __init_data_begin
    boot_region 3, {TEXT_BAR}, {NORMAL_LAR}
    adr_l   x4, __init_data_begin
    adr_l   x5, __bss_end
    boot_region 4, {RW_BAR}, {NORMAL_LAR}
    ldr     x4, ={UART_BASE}
    add     x5, x4, #{UART_SIZE}
    boot_region 5, {DEV_BAR}, {DEV_LAR}

    /* Regions take effect for everything after this point. */
    dsb     sy
    isb
    ic      iallu                       /* no stale instructions when I is set */
    dsb     ish
    isb

    /* MPU on with caches and WXN; BR clear so that anything unmapped faults. */
    mrs     x1, sctlr_el2
    ldr     x2, ={SCTLR_SET}
    orr     x1, x1, x2
    ldr     x2, ={SCTLR_CLEAR}
    bic     x1, x1, x2
    msr     sctlr_el2, x1
    isb

    /*
     * Zero bss from __bss_zero_start: the boot stack (.bss.stack, first in bss) is
     * left as it is, a stack needs no zeroing. xen.ld makes the range whole 1 KiB
     * blocks, 1 KiB aligned. With DC ZVA when DCZID_EL0 allows it (DZP clear) and
     * its block is 64 bytes (BS = 4), 16 blocks a step; otherwise 64 bytes a step
     * with STP. Both loops stop on an empty range. (The range is normal memory,
     * mapped read-write with the MPU and caches on: DC ZVA may be used.)
     */
    adr_l   x1, __bss_zero_start
    adr_l   x2, __bss_end
    mrs     x3, dczid_el0
    and     x3, x3, #0x1f
    cmp     x3, #4
    b.ne    7f
    b       6f
5:  .rept 16
    dc      zva, x1
    add     x1, x1, #64
    .endr
6:  cmp     x1, x2
    b.lo    5b
    b       8f
2:  stp     xzr, xzr, [x1]
    stp     xzr, xzr, [x1, #16]
    stp     xzr, xzr, [x1, #32]
    stp     xzr, xzr, [x1, #48]
    add     x1, x1, #64
7:  cmp     x1, x2
    b.lo    2b
8:
    adr_l   x1, boot_stack_top
    mov     sp, x1
    mov     x29, #0
    mov     x30, #0

    adr_l   x1, el2_vectors
    msr     vbar_el2, x1
    isb

    mov     x0, x21
    adr_l   x1, boot_mpu_record
    bl      start_xen
    b       park                        /* start_xen does not return */

/* Secondary cores: wait for the boot core to publish an entry point. */
secondary_pen:
    adr_l   x1, secondary_entry
3:  wfe
    ldr     x2, [x1]
    cbz     x2, 3b
    br      x2

not_at_el2:
    early_print msg_not_el2
    mrs     x1, CurrentEL
    ubfx    x1, x1, #2, #2
    add     x0, x1, #'0'
    bl      early_putc
    early_print msg_stop
    b       park

/*
 * The boot map does not fit: say so, then stop with status 1 (setup refused its
 * input) through semihosting SYS_EXIT. Where semihosting is unavailable HLT is
 * undefined: the head's own vectors (VBAR_EL2 is not set yet) park the core.
 */
too_few_regions:
    early_print msg_regions
    adr_l   x1, head_park_vectors
    msr     vbar_el2, x1
    isb
    mov     x0, #0x18                   /* SYS_EXIT */
    adr_l   x1, exit_setup_error        /* aligned: no fault with the MPU off */
    hlt     #0xf000
    b       park

    .global park
park:
    wfi
    b       park

/* x0 = string. Clobbers x0-x3, x16. The PL011 needs no setup on the FVP. */
early_puts:
    mov     x3, lr
    mov     x2, x0
4:  ldrb    w0, [x2], #1                /* bytes: no alignment concerns */
    cbz     w0, 5f
    bl      early_putc
    b       4b
5:  mov     lr, x3
    ret

/* w0 = character. Polls UARTFR.TXFF. Clobbers x1, x16. */
early_putc:
    ldr     x1, ={UART_BASE}
6:  ldr     w16, [x1, #0x18]           /* UARTFR */
    tbnz    w16, #5, 6b                 /* TXFF */
    strb    w0, [x1]                    /* UARTDR */
    ret
    .ltorg

/* Every exception taken before VBAR_EL2 points at el2_vectors parks the core. */
    .section .text.head_vectors, "ax"
    .balign 2048
head_park_vectors:
    .rept   16
    .balign 0x80
    b       park
    .endr

    .section .rodata.head, "a"
    .balign 8
exit_setup_error:
    .quad   0x20026, 1                  /* ADP_Stopped_ApplicationExit, status 1 */
msg_not_el2:
    .asciz "rxen: entered at EL"
msg_stop:
    .asciz ", not EL2: stopping\r\n"
msg_regions:
    .asciz "rxen: the EL2 MPU implements too few regions for the boot map: stopping\r\n"

    .section .data.head, "aw"
    .balign 8
    .global secondary_entry
secondary_entry:
    .quad 0

    .section .init.data.head, "aw"
    .balign 8
    .global boot_mpu_record
boot_mpu_record:
    .quad 0, 0                          /* implemented regions, entries */
    .space 3 * 8 * {NR_BOOT_REGIONS}    /* (index, PRBAR, PRLAR) per entry */

    .section .bss.stack, "aw", %nobits
    .balign 16
boot_stack:
    .space {STACK_SIZE}
    .global boot_stack_top
boot_stack_top:
