/* Mistakes --strict must report, in this order:
 * 1. PRBAR written after PRSELR without an ISB;
 * 2. an access through a region just written, before an ISB;
 * 3. two enabled regions overlapping;
 * 4. a fetch from a region made non-executable without IC IALLU.
 * The sequence that follows them is correct and must add no warning. */
main:
    setup_vectors
    ldr     x1, =0x32000
    ldr     x2, =0xd65f03c0                     /* ret */
    str     w2, [x1]
    region 0, 0x0, 0x3fff, 0x08, 0x7
    region 1, 0x20000, 0x20fff, 0x02, 0x7
    region 4, 0x32000, 0x32fff, 0x08, 0x7       /* RO, executable: holds the ret */
    mpu_on

    mov     x0, #2                              /* 1 */
    msr     S3_4_C6_C2_1, x0
    ldr     x0, =(0x30000 | 0x02)
    msr     S3_4_C6_C8_0, x0
    isb
    ldr     x0, =(0x30fc0 | 0x7)
    msr     S3_4_C6_C8_1, x0
    dsb     sy
    ldr     x1, =0x30000
    str     x0, [x1]                            /* 2 */
    isb

    region 3, 0x30800, 0x31fff, 0x02, 0x7       /* 3: overlaps region 2 */
    region 3, 0x31000, 0x31fff, 0x02, 0x7       /* fixed */

    ldr     x1, =0x32000
    blr     x1                                  /* executes the ret */
    mov     x0, #4
    msr     S3_4_C6_C2_1, x0
    isb
    ldr     x0, =(0x32000 | 0x0a)               /* RO, XN now */
    msr     S3_4_C6_C8_0, x0
    dsb     sy
    isb
    ldr     x1, =0x32000
    blr     x1                                  /* 4: aborts, and no IC IALLU was done */

    region 5, 0x35000, 0x35fff, 0x02, 0x7       /* correct: no warning */
    ldr     x1, =0x35000
    str     x0, [x1]
    exit    0
    .ltorg
