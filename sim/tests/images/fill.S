/* Memory no image or file was loaded into: read it and write one
 * character to each of UART0, UART1 and UART3. */
main:
    ldr     x0, =0x48000
    ldr     x1, [x0]                            /* never loaded */
    ldr     x6, =LOG + 0x800
    str     x1, [x6]
    ldr     x0, =0x50000
    ldr     x1, [x0]                            /* loaded with load_data */
    str     x1, [x6, #8]
    mov     x1, #'0'
    ldr     x0, =0x9c090000
    str     w1, [x0]
    mov     x1, #'1'
    ldr     x0, =0x9c0a0000
    str     w1, [x0]
    mov     x1, #'3'
    ldr     x0, =0x9c0c0000
    str     w1, [x0]
    exit    0
    .ltorg
