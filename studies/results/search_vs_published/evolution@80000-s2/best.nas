# best of search run evolution@80000-s2: trial 217, strategy evolution, reward 0.9436 (accuracy, digits)
# decisions: 1 0 1 0 1 1 2 6 4 0 0 1 7 12 0 0 1 6 0 0 1 1 8 9 1 0 1 6 11 0 1 2 6 12 1 2 1 7 5 1 0 1 11 5 0 0 1 7 7 1

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), id(h0))
    b1 = max5x5(h1) + avg3x3(b0)
    b2 = max7x7(h0) + sep7x7(h1)
    b3 = max5x5(h0) + id(h1)
    b4 = concat(conv1x1(h1), conv3x3(h1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h0) + sep5x5(h1)
    b1 = concat(max5x5(h1), sep7x7(b0))
    b2 = concat(max7x7(b0), max3x3(h1))
    b3 = sep5x5(h0) + max3x3(h1)
    b4 = concat(max7x7(h0), max7x7(h1))
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
