# best of search run evolution@80000-s4: trial 350, strategy evolution, reward 0.9405 (accuracy, digits)
# decisions: 0 1 5 3 0 1 1 5 8 0 3 1 9 4 0 1 3 5 12 1 0 4 6 6 1 0 0 0 0 0 2 0 12 7 0 0 2 7 0 0 4 1 11 1 1 3 1 6 6 1

cell best_normal : normal {
    b0 = max3x3(h0) + dil3x3(h1)
    b1 = max3x3(h1) + conv1x1(h1)
    b2 = conv3x3(b1) + avg3x3(h1)
    b3 = concat(max3x3(h1), sep7x7(b1))
    b4 = concat(max5x5(h0), max5x5(b2))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h0) + id(h0)
    b1 = sep7x7(b0) + max7x7(h0)
    b2 = max7x7(h0) + id(b0)
    b3 = concat(sep5x5(b2), conv1x3_3x1(h1))
    b4 = concat(max5x5(b1), max5x5(h1))
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
