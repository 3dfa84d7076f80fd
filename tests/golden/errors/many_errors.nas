# Every problem in a file is reported at once.
cell c : normall {
    b0 = sep3x3(h2) + idd(h1)
    b1 = sep3x3(b0) + id(b0)
    out = concat(b0, b7, b0)
}

network n {
    normal = c
    cells = 4 @ 1056
    imagesize = 224
    aux_head = yes
}

space s {
    blocks = 0
}
