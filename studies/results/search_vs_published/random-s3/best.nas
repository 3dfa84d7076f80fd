# best of search run random-s3: trial 113, strategy random, reward 0.9375 (accuracy, digits)
# decisions: 0 1 9 1 0 2 1 2 10 1 2 1 9 7 0 2 0 4 4 0 3 0 10 7 1 1 1 7 4 1 1 1 5 12 0 3 2 4 3 0 1 3 11 1 1 3 2 1 3 0

cell best_normal : normal {
    b0 = conv3x3(h0) + conv1x3_3x1(h1)
    b1 = concat(conv1x7_7x1(b0), sep3x3(h1))
    b2 = conv3x3(b0) + max7x7(h1)
    b3 = avg3x3(b0) + avg3x3(h0)
    b4 = concat(sep3x3(b1), max7x7(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(max7x7(h1), avg3x3(h1))
    b1 = max3x3(h1) + sep7x7(h1)
    b2 = avg3x3(b1) + dil3x3(b0)
    b3 = concat(sep5x5(h1), conv1x3_3x1(b1))
    b4 = conv1x3_3x1(b1) + dil3x3(b0)
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
