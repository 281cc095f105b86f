/* The EL1 MPU as stage 1, with faults taken at EL1 (EL2 never sees them), and EL0.
 * EL2 runs the guest at EL1 without stage 2 (HCR_EL2.VM = 0). The guest sets
 * VBAR_EL1, programs its MPU (PRSELR_EL1, PRBAR_EL1, PRLAR_EL1), turns it on and:
 *   - reads an address outside its regions: stage-1 translation fault at EL1
 *   - writes its read-only region: stage-1 permission fault at EL1
 *   - drops to EL0, which reads the EL1-only region: permission fault at EL1
 * The EL1 vector logs ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1 and the vector offset at
 * 0x30800 (count at 0x30800, entries from 0x30840) and skips the access; an SVC from
 * EL0 returns to EL1, which ends the run with HVC #0x77. */
    .equ GLOG, 0x30800
main:
    setup_vectors
    ldr     x28, =finish                        /* where EL2 resumes after the HVC */
    mov     x0, #(1 << 31)                      /* RW only: no stage 2 */
    msr     hcr_el2, x0
    ldr     x0, =el1_entry
    msr     elr_el2, x0
    mov     x0, #0x3c5
    msr     spsr_el2, x0
    isb
    eret

el1_entry:
    ldr     x0, =el1_vectors
    msr     vbar_el1, x0
    ldr     x0, =GLOG
    str     xzr, [x0]
    ldr     x0, =0xff                           /* MAIR_EL1 attr0: normal WB */
    msr     mair_el1, x0
    /* region 0: [0, 0x1ffff] RO at EL1 and EL0 (AP 0b11), executable */
    mov     x0, #0
    msr     S3_0_C6_C2_1, x0                    /* PRSELR_EL1 */
    isb
    ldr     x0, =(0x0 | 0x0c)
    msr     S3_0_C6_C8_0, x0                    /* PRBAR_EL1 */
    ldr     x0, =(0x1ffc0 | 1)
    msr     S3_0_C6_C8_1, x0                    /* PRLAR_EL1 */
    /* region 1: [0x30000, 0x30fff] RW at EL1 only (AP 0b00), XN */
    mov     x0, #1
    msr     S3_0_C6_C2_1, x0
    isb
    ldr     x0, =(0x30000 | 0x02)
    msr     S3_0_C6_C8_0, x0
    ldr     x0, =(0x30fc0 | 1)
    msr     S3_0_C6_C8_1, x0
    /* region 2: [0x31000, 0x31fff] RO at EL1 only (AP 0b10), XN */
    mov     x0, #2
    msr     S3_0_C6_C2_1, x0
    isb
    ldr     x0, =(0x31000 | 0x0a)
    msr     S3_0_C6_C8_0, x0
    ldr     x0, =(0x31fc0 | 1)
    msr     S3_0_C6_C8_1, x0
    dsb     sy
    mrs     x0, sctlr_el1
    orr     x0, x0, #1                          /* M */
    msr     sctlr_el1, x0
    isb
    ldr     x1, =0x40000
    ldr     x2, [x1]                            /* 1: translation fault */
    ldr     x1, =0x31010
    str     x2, [x1]                            /* 2: permission fault, write */
    ldr     x0, =el0_entry
    msr     elr_el1, x0
    mov     x0, #0x3c0                          /* EL0t */
    msr     spsr_el1, x0
    isb
    eret
el0_entry:
    ldr     x1, =0x30010
    ldr     x3, [x1]                            /* 3: EL0 has no access */
    svc     #0x5                                /* 4: back to EL1 */
    b       .
el1_done:
    mrs     x9, S3_0_C6_C8_1                    /* PRLAR_EL1 of region 2 */
    ldr     x10, =GLOG
    str     x9, [x10, #0x30]
    hvc     #0x77
    b       .

finish:
    exit    0

    vector_table el1_vectors, el1_log
el1_log:
    mrs     x9, esr_el1
    mrs     x10, far_el1
    mrs     x11, elr_el1
    mrs     x12, spsr_el1
    ldr     x13, =GLOG
    ldr     x14, [x13]
    add     x15, x13, #0x40
    mov     x17, #48
    madd    x15, x14, x17, x15
    stp     x9, x10, [x15]
    stp     x11, x12, [x15, #16]
    str     x16, [x15, #32]
    add     x14, x14, #1
    str     x14, [x13]
    ubfx    x15, x9, #26, #6
    cmp     x15, #0x15                          /* SVC: done at EL1 */
    b.eq    el1_done
    add     x11, x11, #4
    msr     elr_el1, x11
    eret
    .ltorg
