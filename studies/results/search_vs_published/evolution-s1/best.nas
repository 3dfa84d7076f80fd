# best of search run evolution-s1: trial 178, strategy evolution, reward 0.9506 (accuracy, digits)
# decisions: 1 0 11 4 0 1 2 1 2 0 1 1 4 0 0 4 4 8 5 0 2 0 2 6 0 1 0 6 12 0 0 2 0 4 0 2 1 1 4 0 1 0 2 4 1 5 1 2 12 1

cell best_normal : normal {
    b0 = sep5x5(h1) + avg3x3(h0)
    b1 = conv1x3_3x1(h1) + conv1x7_7x1(b0)
    b2 = avg3x3(h1) + id(h1)
    b3 = conv1x1(b2) + max3x3(b2)
    b4 = conv1x7_7x1(b0) + max5x5(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h1) + sep7x7(h0)
    b1 = id(h0) + avg3x3(b0)
    b2 = conv1x3_3x1(b0) + avg3x3(h1)
    b3 = concat(conv1x7_7x1(h1), avg3x3(h0))
    b4 = concat(conv1x7_7x1(b3), sep7x7(h1))
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
