# best of search run random+asha-s0: trial 438, strategy random, reward 0.9375 (accuracy, digits)
# decisions: 1 1 2 5 1 2 1 0 3 0 1 0 9 6 1 3 1 2 7 0 4 0 1 9 0 0 0 0 6 1 2 1 9 1 1 1 1 9 0 0 4 4 4 8 1 1 1 4 5 0

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h1), max3x3(h1))
    b1 = id(b0) + dil3x3(h1)
    b2 = concat(conv3x3(h1), max5x5(h0))
    b3 = conv1x7_7x1(b1) + max7x7(h1)
    b4 = conv1x3_3x1(b2) + conv3x3(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(id(h0), max5x5(h0))
    b1 = concat(conv3x3(b0), conv1x3_3x1(h1))
    b2 = conv3x3(h1) + id(h1)
    b3 = concat(avg3x3(b2), conv1x1(b2))
    b4 = avg3x3(h1) + max3x3(h1)
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
    cells = 4 @ 352
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
    cells = 6 @ 1344
    image = 331
    classes = 1000
    stem_multiplier = 3
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 0.7
    dropout_keep = 0.5
}
