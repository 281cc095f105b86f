/* The benchmark guest (scripts/bench.py): position independent; the same binary runs
 * as d1 and d2. Markers (offsets from the load address, for r82sim --profile):
 *   bench_hvc     xen_version's HVC          bench_after_hvc   the next instruction
 *   bench_putc    a vpl011 UARTDR store      bench_after_putc  the next instruction
 *   bench_yield   SCHEDOP_yield's HVC        (d2's _start is the switch's first
 *                                            instruction in the next domain)
 * then shutdown(poweroff). */
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x2, #0x22000000
    mov     w3, #'.'
    mov     x0, #0
    mov     x16, #17
    .global bench_hvc
bench_hvc:
    hvc     #0xea1
    .global bench_after_hvc
bench_after_hvc:
    nop
    .global bench_putc
bench_putc:
    str     w3, [x2]
    .global bench_after_putc
bench_after_putc:
    mov     w3, #'\n'
    str     w3, [x2]
    mov     x0, #0
    mov     x16, #29
    .global bench_yield
bench_yield:
    hvc     #0xea1
    mov     x0, #2
    adr     x1, reason
    mov     x16, #29
    hvc     #0xea1
    b       .
    .balign 4
reason: .word 0
