cell c : normal {
    b0 = sep3x4(h0) + id(h1)
    b1 = conv5x5(b0) + maxpool(h0)
    out = concat(unused)
}
