/* The virtual CPU interface: EL2 enables it (ICH_HCR_EL2.En, ICH_VMCR_EL2 VPMR and
 * VENG1), puts virtual INTID 40 in LR0 (pending, group 1, priority 0x80, EOI bit for a
 * maintenance interrupt) and returns to EL1 with IRQs unmasked and HCR_EL2.IMO set.
 * EL1 takes the virtual IRQ at VBAR_EL1 + 0x280, reads ICC_IAR1_EL1 (the ICV view)
 * and writes ICC_EOIR1_EL1, then HVCs; EL2 records ICH_MISR/EISR/ELRSR and LR0. */
    .equ RES, LOG + 0x800
main:
    setup_vectors
    ldr     x28, =finish
    ldr     x0, =el1_vectors
    msr     vbar_el1, x0
    mov     x0, #1
    msr     S3_4_C12_C11_0, x0                  /* ICH_HCR_EL2: En */
    ldr     x0, =((0xf8 << 24) | 2)
    msr     S3_4_C12_C11_7, x0                  /* ICH_VMCR_EL2: VPMR, VENG1 */
    ldr     x0, =((1 << 62) | (1 << 60) | (0x80 << 48) | (1 << 41) | 40)
    msr     S3_4_C12_C12_0, x0                  /* ICH_LR0_EL2 */
    ldr     x0, =((1 << 31) | (1 << 4) | (1 << 3))   /* RW, IMO, FMO */
    msr     hcr_el2, x0
    ldr     x0, =el1_entry
    msr     elr_el2, x0
    mov     x0, #0x345                          /* EL1h, D A F masked, I clear */
    msr     spsr_el2, x0
    isb
    eret
el1_entry:
    nop
    b       el1_entry
el1_irq:
    mrs     x9, S3_0_C12_C12_0                  /* ICC_IAR1_EL1 -> ICV_IAR1 */
    mrs     x10, S3_0_C12_C11_3                 /* ICC_RPR_EL1 -> ICV_RPR */
    ldr     x6, =RES
    stp     x9, x10, [x6]
    msr     S3_0_C12_C12_1, x9                  /* EOIR1 */
    hvc     #0
finish:
    ldr     x6, =RES
    mrs     x0, S3_4_C12_C11_2                  /* ICH_MISR_EL2 */
    mrs     x1, S3_4_C12_C11_3                  /* ICH_EISR_EL2 */
    mrs     x2, S3_4_C12_C11_5                  /* ICH_ELRSR_EL2 */
    mrs     x3, S3_4_C12_C12_0                  /* ICH_LR0_EL2 */
    stp     x0, x1, [x6, #16]
    stp     x2, x3, [x6, #32]
    exit    0
    .ltorg
    .balign 0x800
el1_vectors:
    .rept 5
    .balign 0x80
    b       .
    .endr
    .balign 0x80
    b       el1_irq                             /* 0x280: current EL, SP_EL1, IRQ */
    .rept 10
    .balign 0x80
    b       .
    .endr
