cell c {
    b0 = sep3x3(h0 + id(h1)
    out = concat(unused)
}
