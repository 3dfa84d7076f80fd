# best of search run evolution-s0: trial 313, strategy evolution, reward 0.9516 (accuracy, digits)
# decisions: 0 1 5 9 0 1 1 8 2 1 1 3 9 4 0 0 0 6 0 1 3 1 0 5 0 1 1 2 12 0 0 2 2 5 0 0 0 1 12 0 2 1 9 8 1 4 3 9 9 1

cell best_normal : normal {
    b0 = max3x3(h0) + conv3x3(h1)
    b1 = concat(conv1x1(h1), conv1x7_7x1(h1))
    b2 = conv3x3(h1) + avg3x3(b1)
    b3 = concat(max5x5(h0), id(h0))
    b4 = id(b1) + max3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x7_7x1(h1) + sep7x7(h1)
    b1 = conv1x7_7x1(h0) + max3x3(b0)
    b2 = conv1x3_3x1(h0) + sep7x7(h0)
    b3 = concat(conv3x3(b0), conv1x1(h1))
    b4 = concat(conv3x3(b2), conv3x3(b1))
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
    cells = 4 @ 704
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
    cells = 6 @ 2688
    image = 331
    classes = 1000
    stem_multiplier = 3
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 0.7
    dropout_keep = 0.5
}
