/* SYS_EXIT_EXTENDED with status 7. */
main:
    ldr     x1, =block
    mov     x0, #0x20
    hlt     #0xf000
    b       .
    .balign 8
block:
    .quad   0x20026, 7
