# best of search run random-s0: trial 92, strategy random, reward 0.9342 (accuracy, digits)
# decisions: 1 1 12 0 0 2 1 3 5 0 2 3 5 4 0 2 0 5 4 0 2 1 3 3 0 1 0 8 4 0 1 1 0 8 0 3 0 4 12 0 4 2 11 1 0 4 3 10 8 1

cell best_normal : normal {
    b0 = sep7x7(h1) + id(h1)
    b1 = dil3x3(b0) + max3x3(h1)
    b2 = max3x3(b0) + avg3x3(b1)
    b3 = max3x3(b0) + avg3x3(h0)
    b4 = dil3x3(b0) + dil3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x1(h1) + avg3x3(h0)
    b1 = id(h1) + conv1x1(h1)
    b2 = avg3x3(b1) + sep7x7(h0)
    b3 = sep5x5(b2) + conv1x3_3x1(b0)
    b4 = concat(sep3x3(b2), conv1x1(b1))
    out = concat(unused)
}

network best_proxy {
    normal = best_normal
    reduction = best_reduction
    stem = cifar
    cells = 1
    filters = 8
    image = 8
    classes = 10
    stem_multiplier = 1
}

network best_mobile {
    normal = best_normal
    reduction = best_reduction
    stem = imagenet
    cells = 4 @ 528
    image = 224
    classes = 1000
    stem_multiplier = 1
    skip_reduction_input = false
    aux_head = true
    drop_path_keep = 1.0
    dropout_keep = 0.5
}

network best_large {
    normal = best_normal
    reduction = best_reduction
    stem = imagenet
    cells = 6 @ 2016
    image = 331
    classes = 1000
    stem_multiplier = 3
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 0.7
    dropout_keep = 0.5
}
