/* A hostile guest for rxen's isolation tests, position independent. It installs its
 * own EL1 vectors (a caught exception prints "caught EC <hex>" and skips the
 * instruction), then: an SMC (rxen injects an undefined instruction), console_io with
 * a buffer in rxen's image and in another domain (-EFAULT), an unknown hypercall
 * (-ENOSYS), a read of rxen's text (rxen injects an external abort, which it
 * catches), and last a jump into rxen's text: a stage-2 instruction abort, which
 * crashes it. */
    .equ VPL011, 0x22000000
    .section .text.boot, "ax"
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    adr     x1, m_start
    bl      puts
    smc     #0                                  /* undefined at EL1: caught below */
    mov     x0, #0                              /* CONSOLEIO_write from rxen's image */
    mov     x1, #16
    mov     x2, #0x100
    mov     x16, #18
    hvc     #0xea1
    bl      report_efault
    mov     x0, #0                              /* ... and from the other domain */
    mov     x1, #16
    ldr     x2, =0x20000000
    mov     x16, #18
    hvc     #0xea1
    bl      report_efault
    mov     x16, #99                            /* no such hypercall */
    hvc     #0xea1
    cmn     x0, #38
    adr     x1, m_enosys
    adr     x2, m_wrong
    csel    x1, x1, x2, eq
    bl      puts
    adr     x1, m_last
    bl      puts
    mov     x3, #0x100
    ldr     x4, [x3]                            /* rxen's text: an injected abort */
    adr     x1, m_jump
    bl      puts
    mov     x5, #0x100
    br      x5                                  /* stage-2 instruction abort */
    adr     x1, m_survived
    bl      puts
    b       .

report_efault:
    mov     x9, x30
    cmn     x0, #14
    adr     x1, m_efault
    adr     x2, m_wrong
    csel    x1, x1, x2, eq
    bl      puts
    ret     x9

/* puts(x1): write a NUL-terminated string to the vpl011. Clobbers x2, x3. */
puts:
    mov     x2, #VPL011
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
    str     w3, [x2]
    b       1b
2:  ret

    .balign 0x800
vectors:
    .rept 16
    .balign 0x80
    b       caught
    .endr
caught:
    mov     x10, x30
    adr     x1, m_caught
    bl      puts
    mrs     x5, esr_el1
    lsr     x5, x5, #26
    adr     x6, hex
    lsr     x7, x5, #4
    ldrb    w3, [x6, x7]
    mov     x2, #VPL011
    str     w3, [x2]
    and     x7, x5, #0xf
    ldrb    w3, [x6, x7]
    str     w3, [x2]
    mov     w3, #'\n'
    str     w3, [x2]
    mrs     x5, elr_el1
    add     x5, x5, #4
    msr     elr_el1, x5
    mov     x30, x10
    eret
    .ltorg
hex:        .ascii "0123456789abcdef"
m_start:    .asciz "attacking\n"
m_caught:   .asciz "caught EC "
m_efault:   .asciz "console_io: -EFAULT\n"
m_enosys:   .asciz "unknown hypercall: -ENOSYS\n"
m_wrong:    .asciz "WRONG RESULT\n"
m_last:     .asciz "reading rxen's text\n"
m_jump:     .asciz "jumping into rxen's text\n"
m_survived: .asciz "SURVIVED\n"
