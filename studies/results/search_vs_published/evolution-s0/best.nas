# best of search run evolution-s0: trial 183, strategy evolution, reward 0.9449 (accuracy, digits)
# decisions: 0 1 5 9 1 1 0 8 2 0 1 3 5 4 0 3 0 8 0 0 1 1 0 4 0 1 1 2 9 0 2 1 9 5 1 0 1 10 12 0 3 1 2 3 1 3 3 9 9 0

cell best_normal : normal {
    b0 = concat(max3x3(h0), conv3x3(h1))
    b1 = conv1x1(h1) + conv1x7_7x1(h0)
    b2 = max3x3(h1) + avg3x3(b1)
    b3 = conv1x1(b1) + id(h0)
    b4 = id(h1) + avg3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x7_7x1(h1) + conv3x3(h1)
    b1 = concat(conv3x3(b0), max3x3(h1))
    b2 = sep3x3(h0) + sep7x7(h1)
    b3 = concat(conv1x7_7x1(b1), dil3x3(h1))
    b4 = conv3x3(b1) + conv3x3(b1)
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
