# best of search run evolution+asha-s3: trial 172, strategy evolution, reward 0.9449 (accuracy, digits)
# decisions: 0 1 3 3 0 1 1 1 6 1 0 1 4 1 1 3 0 9 5 0 1 3 9 8 1 1 0 8 9 1 2 1 12 1 0 3 0 4 9 0 3 4 2 4 0 1 2 8 4 0

cell best_normal : normal {
    b0 = dil3x3(h0) + dil3x3(h1)
    b1 = concat(conv1x3_3x1(h1), max5x5(h1))
    b2 = concat(avg3x3(h0), conv1x3_3x1(h1))
    b3 = conv3x3(b1) + max3x3(h0)
    b4 = concat(conv3x3(h1), conv1x1(b1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x1(h1), conv3x3(h0))
    b1 = sep7x7(b0) + conv1x3_3x1(h1)
    b2 = avg3x3(b1) + conv3x3(h0)
    b3 = conv1x7_7x1(b1) + avg3x3(b2)
    b4 = conv1x1(h1) + avg3x3(b0)
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
