cell c {
    b0 = sep3x3(h0) + id(h1)
    b0 = sep5x5(h0) + id(h1)
    out = concat(b0)
}

cell c {
    b0 = id(h0) + id(h1)
    out = concat(blocks)
}

network n {
    normal = c
    cells = 2 @ 96
    image = 32
    image = 64
}
