cell c {
    b0 = sep3x3(b2) + id(h0)
    b1 = sep3x3(b0) + id(h1)
    b2 = avg3x3(b1) + id(h0)
    out = concat(unused)
}
