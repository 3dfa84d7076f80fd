# best of search run evolution@80000-s1: trial 1564, strategy evolution, reward 0.9399 (accuracy, digits)
# decisions: 0 1 5 5 0 1 2 0 4 0 3 1 12 0 0 3 2 1 4 0 3 4 0 5 1 1 0 12 0 1 1 1 10 7 0 2 0 10 3 0 1 1 3 8 1 4 4 0 6 0

cell best_normal : normal {
    b0 = max3x3(h0) + max3x3(h1)
    b1 = id(h1) + avg3x3(b0)
    b2 = sep7x7(b1) + id(h1)
    b3 = conv1x3_3x1(b1) + avg3x3(b0)
    b4 = concat(id(b1), max3x3(b2))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep7x7(h1), id(h0))
    b1 = sep3x3(h1) + max7x7(h1)
    b2 = sep3x3(b0) + dil3x3(h0)
    b3 = concat(dil3x3(h1), conv1x1(h1))
    b4 = id(b2) + max5x5(b2)
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
