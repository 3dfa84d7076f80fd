# best of search run ppo-s0: trial 73, strategy ppo, reward 0.9339 (accuracy, digits)
# decisions: 0 1 5 2 0 1 0 1 9 1 2 0 12 5 0 1 1 5 9 0 2 4 3 0 0 1 0 2 0 1 1 1 8 0 1 1 2 2 7 0 1 1 11 0 0 2 5 2 10 1

cell best_normal : normal {
    b0 = max3x3(h0) + conv1x7_7x1(h1)
    b1 = concat(conv1x3_3x1(h1), conv3x3(h0))
    b2 = sep7x7(b0) + max3x3(h0)
    b3 = max3x3(h1) + conv3x3(h1)
    b4 = dil3x3(b0) + id(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), id(h0))
    b1 = concat(conv1x1(h1), id(h1))
    b2 = conv1x7_7x1(h1) + max7x7(b0)
    b3 = sep5x5(h1) + id(h1)
    b4 = concat(conv1x7_7x1(b0), sep3x3(b3))
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
