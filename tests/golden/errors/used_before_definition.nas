cell c {
    b0 = sep3x3(h0) + id(b1)
    b1 = sep5x5(h1) + id(h0)
    out = concat(b0, b1)
}
