# best of search run evolution@80000-s0: trial 1602, strategy evolution, reward 0.9459 (accuracy, digits)
# decisions: 1 0 1 5 1 1 0 12 0 0 1 3 0 2 0 1 1 0 12 1 4 4 5 4 0 1 0 5 5 0 0 0 5 6 0 2 2 8 5 0 3 0 10 9 0 1 1 6 5 1

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), max3x3(h0))
    b1 = sep7x7(h1) + id(h0)
    b2 = id(h1) + conv1x7_7x1(b1)
    b3 = concat(id(h1), sep7x7(h1))
    b4 = max3x3(b2) + avg3x3(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max3x3(h1) + max3x3(h0)
    b1 = max3x3(h0) + max5x5(h0)
    b2 = conv1x1(b0) + max3x3(b0)
    b3 = sep3x3(b1) + conv3x3(h0)
    b4 = concat(max5x5(h1), max3x3(h1))
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
