# best of search run evolution@80000-s2: trial 421, strategy evolution, reward 0.9492 (accuracy, digits)
# decisions: 0 1 6 0 0 1 2 2 8 1 3 2 7 0 0 0 1 10 6 1 2 2 4 0 1 1 1 5 6 0 2 0 0 12 0 3 1 0 7 0 4 1 12 9 0 2 2 10 1 1

cell best_normal : normal {
    b0 = max5x5(h0) + id(h1)
    b1 = concat(conv1x7_7x1(h1), conv1x1(b0))
    b2 = max7x7(b1) + id(b0)
    b3 = concat(sep3x3(h0), max5x5(h1))
    b4 = concat(avg3x3(b0), id(b0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max3x3(h1) + max5x5(h1)
    b1 = id(b0) + sep7x7(h0)
    b2 = id(b1) + max7x7(h1)
    b3 = sep7x7(b2) + conv3x3(h1)
    b4 = concat(sep3x3(b0), conv1x3_3x1(b0))
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
