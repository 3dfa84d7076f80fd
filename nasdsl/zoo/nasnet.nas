# NASNet-A (Zoph et al., CVPR 2018) exactly as released in TF-slim's nasnet.py.
# States: h0 = this cell's input after ReLU-1x1-BN; h1 = the cell input before it.
# NASNet-B and NASNet-C exist only as figures in the paper (no released genotype), so the zoo
# does not define them.

cell nasnet_a_normal : normal {
    b0 = sep5x5(h0) + sep3x3(h1)
    b1 = sep5x5(h1) + sep3x3(h1)
    b2 = avg3x3(h0) + id(h1)
    b3 = avg3x3(h1) + avg3x3(h1)
    b4 = sep3x3(h0) + id(h0)
    out = concat(h1, b0, b1, b2, b3, b4)  # TF-slim's hard-coded list: h1 too, although read
}

cell nasnet_a_reduce : reduction {
    b0 = sep5x5(h0) + sep7x7(h1)
    b1 = max3x3(h0) + sep7x7(h1)
    b2 = avg3x3(h0) + sep5x5(h1)
    b3 = id(b1) + avg3x3(b0)
    b4 = sep3x3(b0) + max3x3(h0)
    out = concat(b1, b2, b3, b4)  # as released: b1 is concatenated although b3 reads it
}

network nasnet_a_cifar {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    stem = cifar
    cells = 6 @ 768
    image = 32
    classes = 10
    stem_multiplier = 3
    skip_reduction_input = false
    aux_head = true
    drop_path_keep = 0.6
    dropout_keep = 1.0
    bn_eps = 1e-5
}

network nasnet_a_mobile {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    stem = imagenet
    cells = 4 @ 1056
    image = 224
    classes = 1000
    stem_multiplier = 1
    skip_reduction_input = false
    aux_head = true
    drop_path_keep = 1.0
    dropout_keep = 0.5
    bn_eps = 0.001
}

network nasnet_a_large {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    stem = imagenet
    cells = 6 @ 4032
    image = 331
    classes = 1000
    stem_multiplier = 3
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 0.7
    dropout_keep = 0.5
    bn_eps = 0.001
}

# The paper's search space: 13 ops, B = 5 blocks, two inputs per block, add or concat.
space nasnet {
    blocks = 5
    ops = id, conv1x3_3x1, conv1x7_7x1, dil3x3, avg3x3, max3x3, max5x5, max7x7,
          conv1x1, conv3x3, sep3x3, sep5x5, sep7x7
    combine = add, concat
    inputs = 2
    output = unused
}
