# best of search run ppo-s1: trial 162, strategy ppo, reward 0.9382 (accuracy, digits)
# decisions: 0 0 1 4 0 1 1 0 4 0 3 3 0 0 0 3 1 8 12 1 5 1 4 8 1 1 1 2 8 1 2 2 2 12 0 3 1 6 1 1 4 3 3 6 0 2 4 3 2 0

cell best_normal : normal {
    b0 = conv1x3_3x1(h0) + avg3x3(h0)
    b1 = id(h1) + avg3x3(h1)
    b2 = id(b1) + id(b1)
    b3 = concat(conv1x1(b1), sep7x7(h1))
    b4 = concat(avg3x3(b3), conv1x1(h1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), conv1x1(h1))
    b1 = conv1x7_7x1(b0) + sep7x7(b0)
    b2 = concat(max5x5(b1), conv1x3_3x1(h1))
    b3 = dil3x3(b2) + max5x5(b1)
    b4 = dil3x3(b0) + conv1x7_7x1(b2)
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
