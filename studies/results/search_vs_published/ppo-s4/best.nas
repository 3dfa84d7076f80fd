# best of search run ppo-s4: trial 105, strategy ppo, reward 0.9496 (accuracy, digits)
# decisions: 1 1 5 2 1 0 0 0 5 0 0 1 6 4 1 4 2 2 1 1 1 3 8 6 1 1 1 2 4 1 2 1 3 2 0 2 0 12 5 0 0 3 8 5 0 5 3 3 0 1

cell best_normal : normal {
    b0 = concat(max3x3(h1), conv1x7_7x1(h1))
    b1 = id(h0) + max3x3(h0)
    b2 = concat(max5x5(h0), avg3x3(h1))
    b3 = concat(conv1x7_7x1(b2), conv1x3_3x1(b0))
    b4 = concat(conv1x1(h1), max5x5(b1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), avg3x3(h1))
    b1 = dil3x3(b0) + conv1x7_7x1(h1)
    b2 = sep7x7(b0) + max3x3(h0)
    b3 = conv1x1(h0) + max3x3(b1)
    b4 = concat(dil3x3(b3), id(b1))
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
