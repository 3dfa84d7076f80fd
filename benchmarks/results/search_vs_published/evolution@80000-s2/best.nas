# best of search run evolution@80000-s2: trial 1533, strategy evolution, reward 0.9452 (accuracy, digits)
# decisions: 1 0 3 0 0 1 1 5 4 0 2 0 7 12 1 0 1 6 0 0 1 1 11 7 0 0 1 6 5 0 0 0 10 12 0 1 1 12 5 0 0 2 11 5 0 2 2 0 7 1

cell best_normal : normal {
    b0 = dil3x3(h1) + id(h0)
    b1 = max3x3(h1) + avg3x3(h1)
    b2 = concat(max7x7(b0), sep7x7(h0))
    b3 = max5x5(h0) + id(h1)
    b4 = sep5x5(h1) + max7x7(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h0) + max3x3(h1)
    b1 = sep3x3(h0) + sep7x7(h0)
    b2 = sep7x7(h1) + max3x3(h1)
    b3 = sep5x5(h0) + max3x3(b0)
    b4 = concat(id(b0), max7x7(b0))
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
