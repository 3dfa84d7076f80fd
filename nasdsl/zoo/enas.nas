# ENAS (Pham et al., ICML 2018): the CIFAR-10 micro-search cells, from the DARTS-format genotype
# that several PyTorch reimplementations carry for the paper (inputs 0 = c_{k-2} = our h1,
# 1 = c_{k-1} = our h0; normal_concat [2, 3, 4, 5, 6], reduce_concat [2, 3, 6]). ENAS concatenates
# the nodes no node reads, so both outputs equal the NASNet rule here. The `fixed_arc` string in
# the ENAS repository's cifar10_micro_final.sh is a different cell (it uses max pooling).

cell enas_normal : normal {
    b0 = sep3x3(h0) + id(h0)
    b1 = sep5x5(h0) + id(h1)
    b2 = avg3x3(h1) + sep3x3(h0)
    b3 = sep3x3(h1) + avg3x3(h0)
    b4 = sep5x5(h0) + avg3x3(h1)
    out = concat(blocks)
}

cell enas_reduce : reduction {
    b0 = sep5x5(h1) + avg3x3(h0)
    b1 = sep3x3(h0) + avg3x3(h0)
    b2 = sep3x3(h0) + avg3x3(h0)
    b3 = sep5x5(b2) + avg3x3(h0)
    b4 = sep3x3(b3) + sep5x5(h1)
    out = concat(b0, b1, b4)
}
