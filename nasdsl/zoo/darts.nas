# DARTS (Liu, Simonyan, Yang, ICLR 2019): the CIFAR-10 cells of cnn/genotypes.py. V1 was found
# with the first-order approximation, V2 (DARTS' default `DARTS = DARTS_V2`) with the second-order
# one. DARTS numbers a cell's inputs 0 = c_{k-2} (our h1) and 1 = c_{k-1} (our h0); each of the 4
# nodes sums two edges and the cell concatenates all nodes (concat [2, 3, 4, 5]).

cell darts_v1_normal : normal {
    b0 = sep3x3(h0) + sep3x3(h1)
    b1 = id(h1) + sep3x3(h0)
    b2 = id(h1) + sep3x3(h0)
    b3 = sep3x3(h1) + id(b0)
    out = concat(blocks)
}

cell darts_v1_reduce : reduction {
    b0 = max3x3(h1) + max3x3(h0)
    b1 = id(b0) + max3x3(h1)
    b2 = max3x3(h1) + id(b0)
    b3 = id(b0) + avg3x3(h1)
    out = concat(blocks)
}

cell darts_v2_normal : normal {
    b0 = sep3x3(h1) + sep3x3(h0)
    b1 = sep3x3(h1) + sep3x3(h0)
    b2 = sep3x3(h0) + id(h1)
    b3 = id(h1) + dil_sep3x3(b0)
    out = concat(blocks)
}

cell darts_v2_reduce : reduction {
    b0 = max3x3(h1) + max3x3(h0)
    b1 = id(b0) + max3x3(h0)
    b2 = max3x3(h1) + id(b0)
    b3 = id(b0) + max3x3(h0)
    out = concat(blocks)
}
