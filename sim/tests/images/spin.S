/* Never stops: the watchdog must. */
main:
    b       main
