# best of search run evolution@80000-s4: trial 316, strategy evolution, reward 0.9442 (accuracy, digits)
# decisions: 1 1 5 3 0 1 2 0 7 0 3 2 9 4 1 2 2 5 4 0 0 0 4 6 0 1 1 0 12 0 0 0 4 7 0 1 2 7 0 0 4 3 11 9 1 4 1 0 9 0

cell best_normal : normal {
    b0 = max3x3(h1) + dil3x3(h1)
    b1 = id(h1) + max7x7(b0)
    b2 = concat(conv3x3(b1), avg3x3(b0))
    b3 = max3x3(b0) + avg3x3(b0)
    b4 = avg3x3(h0) + max5x5(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h1) + sep7x7(h1)
    b1 = avg3x3(h0) + max7x7(h0)
    b2 = max7x7(h1) + id(b0)
    b3 = concat(sep5x5(b2), conv3x3(b1))
    b4 = id(b2) + conv3x3(h1)
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
