/* The EL2 MPU against PMSAv8-64: 64-byte region edges, BR=0 misses, overlapping
 * regions, AP and XN, WXN, PRENR, the PRBAR<n> aliases, the background region. */
main:
    setup_vectors
    region 0, 0x0, 0x3fff, 0x08, 0x7            /* code: RO, executable */
    region 1, 0x20000, 0x20fff, 0x02, 0x7       /* log: RW, XN */
    region 2, 0x30040, 0x300bf, 0x02, 0x7       /* 128 bytes on 64-byte edges */
    region 3, 0x31000, 0x31fff, 0x0a, 0x7       /* RO, XN */
    region 4, 0x32000, 0x32fff, 0x00, 0x7       /* RW, executable: XN under WXN */
    region 5, 0x33000, 0x33fff, 0x02, 0x7
    region 6, 0x33800, 0x34fff, 0x02, 0x7       /* overlaps region 5 */
    mpu_on

    ldr     x1, =0x30040
    ldr     x2, [x1]                            /* first byte: allowed */
    ldr     x1, =0x300b8
    ldr     x2, [x1]                            /* last 8 bytes: allowed */
    ldr     x1, =0x30038
    ldr     x2, [x1]                            /* 1: below the base: translation */
    ldr     x1, =0x300c0
    ldrb    w3, [x1]                            /* 2: past the limit: translation */
    ldr     x1, =0x31000
    str     x4, [x1]                            /* 3: write to RO: permission */
    ldr     x1, =0x33900
    ldr     x5, [x1]                            /* 4: two regions match: translation */
    ldr     x1, =0x33100
    ldr     x5, [x1]                            /* only region 5: allowed */
    ldr     x1, =0x32000
    blr     x1                                  /* 5: WXN: instruction abort, permission */
    ldr     x1, =0x31000
    blr     x1                                  /* 6: XN: instruction abort, permission */
    ldr     x1, =0x40000
    blr     x1                                  /* 7: no region: instruction abort, translation */

    mrs     x3, S3_4_C6_C1_1                    /* PRENR_EL2 */
    ldr     x6, =LOG + 0x800
    str     x3, [x6]                            /* PRENR as read: regions 0-6 enabled */
    bic     x3, x3, #(1 << 5)
    msr     S3_4_C6_C1_1, x3
    isb
    ldr     x1, =0x33900
    ldr     x5, [x1]                            /* region 5 disabled: allowed now */

    mov     x0, #0
    msr     S3_4_C6_C2_1, x0
    isb
    mrs     x4, S3_4_C6_C9_0                    /* PRBAR2_EL2 */
    mrs     x5, S3_4_C6_C9_1                    /* PRLAR2_EL2 */
    stp     x4, x5, [x6, #8]

    mrs     x0, sctlr_el2
    orr     x0, x0, #(1 << 17)                  /* BR: background region on */
    msr     sctlr_el2, x0
    isb
    ldr     x1, =0x40000
    ldr     x2, [x1]                            /* allowed by the background region */
    exit    0
    .ltorg
