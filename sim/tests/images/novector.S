/* An undefined instruction before VBAR_EL2 is set. */
main:
    udf     #0
