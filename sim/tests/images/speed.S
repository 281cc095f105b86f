/* A tight loop that stores next to its own code, for `make bench` (r82sim's own
 * speed): x2 iterations of a counter update kept in memory 64 bytes past the code. */
main:
    ldr     x2, =50000000
    adr     x1, slot
1:  ldr     x3, [x1]
    add     x3, x3, #1
    str     x3, [x1]
    subs    x2, x2, #1
    b.ne    1b
    exit    0
    .ltorg
    .balign 64
slot:
    .quad   0
