# best of search run evolution-s2: trial 202, strategy evolution, reward 0.9429 (accuracy, digits)
# decisions: 0 1 10 3 1 1 1 3 7 0 1 1 6 11 0 1 0 6 0 0 4 1 9 9 0 1 0 0 9 1 1 1 12 9 1 1 1 2 1 1 0 3 8 10 0 3 1 5 5 1

cell best_normal : normal {
    b0 = concat(sep3x3(h0), dil3x3(h1))
    b1 = dil3x3(h1) + max7x7(h1)
    b2 = max5x5(h1) + sep5x5(h1)
    b3 = max5x5(h1) + id(h0)
    b4 = conv3x3(b2) + conv3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(id(h1), conv3x3(h0))
    b1 = concat(sep7x7(h1), conv3x3(h1))
    b2 = concat(conv1x7_7x1(h1), conv1x3_3x1(h1))
    b3 = conv1x1(h0) + sep3x3(b1)
    b4 = concat(max3x3(b1), max3x3(h1))
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
