# best of search run evolution@80000-s1: trial 324, strategy evolution, reward 0.9446 (accuracy, digits)
# decisions: 1 1 2 7 0 0 0 5 12 0 0 1 11 11 0 1 1 4 4 0 0 3 0 0 1 1 1 10 10 1 1 0 11 5 1 1 0 7 4 0 1 0 7 8 1 1 0 7 6 0

cell best_normal : normal {
    b0 = conv1x7_7x1(h1) + max7x7(h1)
    b1 = max3x3(h0) + sep7x7(h0)
    b2 = sep5x5(h0) + sep5x5(h1)
    b3 = avg3x3(h1) + avg3x3(h1)
    b4 = concat(id(h0), id(b1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep3x3(h1), sep3x3(h1))
    b1 = concat(sep5x5(h1), max3x3(h0))
    b2 = max7x7(h1) + avg3x3(h0)
    b3 = concat(max7x7(h1), conv1x1(h0))
    b4 = max7x7(h1) + max5x5(h0)
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
