cell c {
    b0 = sep3x3(h0, h1)
    out = concat(unused)
}
