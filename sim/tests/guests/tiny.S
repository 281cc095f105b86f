/* A tiny dom0less guest for rxen's boot tests, position independent. At entry x0 =
 * its device tree. It prints through the vpl011 (polling UARTFR.TXFF), then through
 * console_io, yields twice, checks xen_version, and powers off with sched_op. */
    .equ VPL011, 0x22000000
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    adr     x1, msg_uart
    mov     x2, #VPL011
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
3:  ldr     w4, [x2, #0x18]                     /* UARTFR */
    tbnz    w4, #5, 3b                          /* TXFF */
    str     w3, [x2]                            /* UARTDR */
    b       1b
2:  mov     x0, #0                              /* CONSOLEIO_write */
    mov     x1, #(msg_hc_end - msg_hc)
    adr     x2, msg_hc
    mov     x16, #18
    hvc     #0xea1
    mov     x20, x0                             /* 0 on success */
    mov     x0, #0                              /* SCHEDOP_yield */
    mov     x16, #29
    hvc     #0xea1
    mov     x0, #0
    mov     x16, #29
    hvc     #0xea1
    mov     x0, #0                              /* XENVER_version */
    mov     x16, #17
    hvc     #0xea1
    mov     x21, x0
    /* Report: "x0 of console_io, xen_version" as two hex digits each is overkill:
     * print OK when console_io returned 0 and the version is 4.20. */
    ldr     x5, =((4 << 16) | 20)
    cmp     x21, x5
    ccmp    x20, #0, #0, eq
    b.ne    4f
    adr     x1, msg_ok
    b       5f
4:  adr     x1, msg_bad
5:  mov     x2, #VPL011
6:  ldrb    w3, [x1], #1
    cbz     w3, 7f
    str     w3, [x2]
    b       6b
7:  mov     x0, #2                              /* SCHEDOP_shutdown */
    adr     x1, reason
    mov     x16, #29
    hvc     #0xea1
    b       .
    .ltorg
    .balign 4
reason: .word 0                                 /* SHUTDOWN_poweroff */
msg_uart: .asciz "hello through the vpl011\n"
msg_hc:   .ascii "hello through console_io\n"
msg_hc_end:
msg_ok:   .asciz "hypercalls ok\n"
msg_bad:  .asciz "hypercalls FAILED\n"
