# AmoebaNet-A (Real et al., AAAI 2019), as transcribed in DARTS' cnn/genotypes.py (`AmoebaNet`).
# DARTS numbers a cell's inputs 0 = c_{k-2} (our h1) and 1 = c_{k-1} (our h0); the concat lists
# below are DARTS' normal_concat [4, 5, 6] and reduce_concat [3, 4, 6], which are exactly the
# states no block reads (the NASNet rule).

cell amoebanet_a_normal : normal {
    b0 = avg3x3(h1) + max3x3(h0)
    b1 = sep3x3(h1) + sep5x5(b0)
    b2 = sep3x3(h1) + avg3x3(b1)
    b3 = sep3x3(h0) + id(h0)
    b4 = id(h1) + avg3x3(h0)
    out = concat(b2, b3, b4)
}

cell amoebanet_a_reduce : reduction {
    b0 = avg3x3(h1) + sep3x3(h0)
    b1 = max3x3(h1) + sep7x7(b0)
    b2 = sep7x7(h1) + avg3x3(h0)
    b3 = max3x3(h1) + max3x3(h0)
    b4 = conv1x7_7x1(h1) + sep3x3(b3)
    out = concat(b1, b2, b4)
}
