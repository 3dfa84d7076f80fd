# best of search run random-s1: trial 200, strategy random, reward 0.9402 (accuracy, digits)
# decisions: 1 0 5 6 1 0 1 5 4 0 1 1 5 10 0 0 1 3 2 0 3 1 2 5 1 1 0 0 6 0 1 0 11 9 0 0 2 4 2 1 0 4 7 1 0 1 4 12 5 1

cell best_normal : normal {
    b0 = concat(max3x3(h1), max5x5(h0))
    b1 = max3x3(h0) + avg3x3(h1)
    b2 = max3x3(h1) + sep3x3(h1)
    b3 = dil3x3(h0) + conv1x7_7x1(h1)
    b4 = concat(conv1x7_7x1(b1), max3x3(h1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h1) + max5x5(h0)
    b1 = sep5x5(h1) + conv3x3(h0)
    b2 = concat(avg3x3(h0), conv1x7_7x1(b0))
    b3 = max7x7(h0) + conv1x3_3x1(b2)
    b4 = concat(sep7x7(h1), max3x3(b2))
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
