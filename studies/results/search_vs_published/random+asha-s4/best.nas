# best of search run random+asha-s4: trial 331, strategy random, reward 0.9442 (accuracy, digits)
# decisions: 0 1 12 9 0 0 1 5 0 0 0 1 4 0 0 1 3 5 3 1 2 0 11 5 1 1 0 2 3 1 2 0 2 4 0 2 1 3 6 0 3 1 2 12 1 0 0 3 1 0

cell best_normal : normal {
    b0 = sep7x7(h0) + conv3x3(h1)
    b1 = max3x3(h0) + id(h1)
    b2 = avg3x3(h0) + id(h1)
    b3 = concat(max3x3(h1), dil3x3(b1))
    b4 = concat(sep5x5(b0), max3x3(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), dil3x3(h0))
    b1 = conv1x7_7x1(b0) + avg3x3(h0)
    b2 = dil3x3(b0) + max5x5(h1)
    b3 = concat(conv1x7_7x1(b1), sep7x7(h1))
    b4 = dil3x3(h0) + conv1x3_3x1(h0)
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
