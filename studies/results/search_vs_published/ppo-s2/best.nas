# best of search run ppo-s2: trial 184, strategy ppo, reward 0.9399 (accuracy, digits)
# decisions: 1 0 11 10 0 1 0 5 4 1 0 3 6 4 0 1 3 3 11 0 2 1 4 9 1 0 0 12 6 1 0 0 4 10 1 3 0 12 5 0 1 1 12 1 0 0 4 5 9 0

cell best_normal : normal {
    b0 = sep5x5(h1) + sep3x3(h0)
    b1 = concat(max3x3(h1), avg3x3(h0))
    b2 = max5x5(h0) + avg3x3(b1)
    b3 = dil3x3(h1) + sep5x5(b1)
    b4 = concat(avg3x3(b0), conv3x3(h1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep7x7(h0), max5x5(h0))
    b1 = concat(avg3x3(h0), sep3x3(h0))
    b2 = sep7x7(b1) + max3x3(h0)
    b3 = sep7x7(h1) + conv1x3_3x1(h1)
    b4 = max3x3(h0) + conv3x3(b2)
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
