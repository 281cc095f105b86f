/* A virtual SError: EL2 sets HCR_EL2.{AMO, VSE} and returns to EL1 with PSTATE.A
 * clear; EL1 takes it at once at VBAR_EL1 + 0x380 (current EL, SP_EL1, SError), with
 * HCR_EL2.VSE cleared. EL1 records ESR_EL1 and the vector, then HVCs back. */
main:
    setup_vectors
    ldr     x28, =finish
    ldr     x0, =el1_vectors
    msr     vbar_el1, x0
    ldr     x0, =((1 << 31) | (1 << 5) | (1 << 8))   /* RW AMO VSE */
    msr     hcr_el2, x0
    ldr     x0, =el1_entry
    msr     elr_el2, x0
    mov     x0, #0x2c5                          /* EL1h, D I F masked, A clear */
    msr     spsr_el2, x0
    isb
    eret
el1_entry:
    nop
    nop
    hvc     #0x1                                /* only if no SError was taken */
    b       .
finish:
    mrs     x0, hcr_el2
    ldr     x6, =LOG + 0x800
    str     x0, [x6, #16]
    exit    0

    vector_table el1_vectors, el1_log
el1_log:
    mrs     x9, esr_el1
    mrs     x10, elr_el1
    ldr     x6, =LOG + 0x800
    stp     x9, x16, [x6]
    str     x10, [x6, #24]
    hvc     #0x2
    .ltorg
