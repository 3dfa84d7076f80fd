# best of search run enas-s1: trial 88, strategy enas, reward 0.9369 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1200
# decisions: 1 1 6 6 1 2 0 8 12 1 3 1 1 9 1 1 0 6 2 0 1 5 6 2 0 1 0 2 6 0 1 1 8 8 1 0 1 10 5 0 0 3 2 3 0 0 4 8 9 1

cell best_normal : normal {
    b0 = concat(max5x5(h1), max5x5(h1))
    b1 = concat(conv1x1(b0), sep7x7(h0))
    b2 = concat(conv1x3_3x1(b1), conv3x3(h1))
    b3 = max5x5(h1) + conv1x7_7x1(h0)
    b4 = max5x5(h1) + conv1x7_7x1(b3)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x7_7x1(h1) + max5x5(h0)
    b1 = concat(conv1x1(h1), conv1x1(h1))
    b2 = sep3x3(h0) + max3x3(h1)
    b3 = conv1x7_7x1(h0) + dil3x3(b1)
    b4 = concat(conv1x1(h0), conv3x3(b2))
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
