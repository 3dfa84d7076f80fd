# best of search run evolution@80000-s4: trial 495, strategy evolution, reward 0.9479 (accuracy, digits)
# decisions: 0 0 0 5 0 1 1 1 4 0 1 2 5 8 0 0 3 4 5 1 3 0 3 7 1 0 0 7 4 0 1 1 7 11 0 1 1 11 2 0 3 1 8 5 0 2 3 11 4 1

cell best_normal : normal {
    b0 = id(h0) + max3x3(h0)
    b1 = conv1x3_3x1(h1) + avg3x3(h1)
    b2 = max3x3(h1) + conv1x1(b0)
    b3 = concat(avg3x3(h0), max3x3(b1))
    b4 = concat(dil3x3(b1), max7x7(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max7x7(h0) + avg3x3(h0)
    b1 = max7x7(h1) + sep5x5(h1)
    b2 = sep5x5(h1) + conv1x7_7x1(h1)
    b3 = conv1x1(b1) + max3x3(h1)
    b4 = concat(sep5x5(b0), avg3x3(b1))
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
