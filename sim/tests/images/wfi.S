/* Waits for an interrupt that cannot come. */
main:
    wfi
    b       main
