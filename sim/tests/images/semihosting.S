/* Semihosting as the FVP implements it: SYS_OPEN(":tt"), SYS_WRITE, SYS_WRITE0,
 * SYS_WRITEC, then SYS_EXIT with status 42. */
main:
    ldr     x1, =open_block
    mov     x0, #0x01                           /* SYS_OPEN */
    hlt     #0xf000
    ldr     x7, =0x20000
    str     x0, [x7]                            /* the handle */
    ldr     x1, =0x20000
    ldr     x2, =msg_write
    mov     x3, #6
    stp     x2, x3, [x1, #8]
    mov     x0, #0x05                           /* SYS_WRITE [handle, buf, len] */
    hlt     #0xf000
    ldr     x7, =0x20100
    str     x0, [x7]                            /* bytes not written */
    ldr     x1, =msg_write0
    mov     x0, #0x04                           /* SYS_WRITE0 */
    hlt     #0xf000
    ldr     x1, =char_x
    mov     x0, #0x03                           /* SYS_WRITEC */
    hlt     #0xf000
    exit    42
    .ltorg
    .balign 8
open_block:
    .quad   tt, 4, 3
tt:
    .asciz  ":tt"
msg_write:
    .ascii  "write\n"
msg_write0:
    .asciz  "write0\n"
char_x:
    .ascii  "X"
