# best of search run evolution@80000-s1: trial 2021, strategy evolution, reward 0.9466 (accuracy, digits)
# decisions: 0 1 4 7 0 0 0 12 5 0 1 1 10 3 0 1 2 8 1 1 4 1 4 6 0 1 0 5 0 0 1 2 5 8 1 3 2 12 8 0 2 2 0 12 0 1 4 6 4 0

cell best_normal : normal {
    b0 = avg3x3(h0) + max7x7(h1)
    b1 = sep7x7(h0) + max3x3(h0)
    b2 = sep3x3(h1) + dil3x3(h1)
    b3 = concat(conv1x1(h1), conv1x3_3x1(b0))
    b4 = avg3x3(b2) + max5x5(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max3x3(h1) + id(h0)
    b1 = concat(max3x3(h1), conv1x1(b0))
    b2 = sep7x7(b1) + conv1x1(b0)
    b3 = id(b0) + sep7x7(b0)
    b4 = max5x5(h1) + avg3x3(b2)
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
