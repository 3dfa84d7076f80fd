# a network that puts a reduction cell in the normal cell's place, and the other way round
cell my_normal : normal {
    b0 = sep3x3(h0) + id(h1)
    out = concat(b0)
}

cell my_reduce : reduction {
    b0 = sep3x3(h0) + max3x3(h1)
    out = concat(b0)
}

network swapped {
    normal = my_reduce
    reduction = my_normal
    stem_cell = my_normal
    cells = 6 @ 32
}
