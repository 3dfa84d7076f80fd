# best of search run evolution@80000-s2: trial 1610, strategy evolution, reward 0.9385 (accuracy, digits)
# decisions: 1 0 7 5 1 1 0 8 4 0 1 1 9 7 0 0 4 9 0 1 1 0 7 4 0 1 0 7 11 0 0 2 5 1 0 1 1 7 4 0 0 1 7 5 0 2 3 3 6 0

cell best_normal : normal {
    b0 = concat(max7x7(h1), max3x3(h0))
    b1 = conv1x1(h1) + avg3x3(h0)
    b2 = conv3x3(h1) + max7x7(h1)
    b3 = concat(conv3x3(h0), id(b2))
    b4 = max7x7(h1) + avg3x3(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max7x7(h1) + sep5x5(h0)
    b1 = max3x3(h0) + conv1x3_3x1(b0)
    b2 = max7x7(h1) + avg3x3(h1)
    b3 = max7x7(h0) + max3x3(h1)
    b4 = dil3x3(b0) + max5x5(b1)
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
