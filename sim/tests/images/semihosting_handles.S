/* Semihosting handles as the FVP gives them: ":tt" mode 8 (stderr) and mode 4
 * (stdout), SYS_ISTTY, SYS_TICKFREQ, SYS_ELAPSED, SYS_GET_CMDLINE, an unknown
 * operation (-1, SYS_ERRNO), then SYS_EXIT_EXTENDED with ApplicationExit 0. Results
 * go to LOG + 0x800. */
main:
    ldr     x6, =LOG + 0x800
    adr     x1, open_err
    mov     x0, #0x01
    hlt     #0xf000
    mov     x19, x0                             /* stderr handle */
    adr     x1, open_out
    mov     x0, #0x01
    hlt     #0xf000
    mov     x20, x0                             /* stdout handle */
    ldr     x1, =LOG + 0x900
    adr     x2, to_err
    mov     x3, #4
    stp     x19, x2, [x1]
    str     x3, [x1, #16]
    mov     x0, #0x05                           /* SYS_WRITE to stderr */
    hlt     #0xf000
    str     x0, [x6]
    adr     x2, to_out
    stp     x20, x2, [x1]
    mov     x0, #0x05                           /* SYS_WRITE to stdout */
    hlt     #0xf000
    str     x20, [x1]
    mov     x0, #0x09                           /* SYS_ISTTY */
    hlt     #0xf000
    str     x0, [x6, #8]
    mov     x0, #0x31                           /* SYS_TICKFREQ */
    hlt     #0xf000
    str     x0, [x6, #16]
    ldr     x1, =LOG + 0x818
    mov     x0, #0x30                           /* SYS_ELAPSED: ticks at [x1] */
    hlt     #0xf000
    ldr     x1, =LOG + 0x900
    ldr     x2, =LOG + 0xa00
    mov     x3, #64
    stp     x2, x3, [x1]
    mov     x0, #0x15                           /* SYS_GET_CMDLINE */
    hlt     #0xf000
    str     x0, [x6, #32]
    mov     x0, #0x77                           /* no such operation */
    hlt     #0xf000
    str     x0, [x6, #40]
    mov     x0, #0x13                           /* SYS_ERRNO */
    hlt     #0xf000
    str     x0, [x6, #48]
    exit    0
    .ltorg
    .balign 8
open_err: .quad tt, 8, 3
open_out: .quad tt, 4, 3
tt:       .asciz ":tt"
to_err:   .ascii "err\n"
to_out:   .ascii "out\n"
