cell mine : normal {
    b0 = sep3x3(h0) + id(h1)
    out = concat(blocks)
}

network n {
    normal = mien
    reduction = nasnet_a_reduce
    cells = 2 @ 16
}
