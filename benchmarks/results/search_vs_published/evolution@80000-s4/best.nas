# best of search run evolution@80000-s4: trial 1291, strategy evolution, reward 0.9509 (accuracy, digits)
# decisions: 1 1 5 3 0 1 1 0 5 0 2 0 9 4 0 2 1 5 2 0 4 4 4 5 1 0 1 4 10 0 1 0 4 7 0 0 2 10 4 1 4 3 11 10 0 3 1 11 6 0

cell best_normal : normal {
    b0 = max3x3(h1) + dil3x3(h1)
    b1 = id(h1) + max3x3(h1)
    b2 = conv3x3(b0) + avg3x3(h0)
    b3 = max3x3(b0) + conv1x7_7x1(h1)
    b4 = concat(avg3x3(b2), max3x3(b2))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = avg3x3(h0) + sep3x3(h1)
    b1 = avg3x3(h1) + max7x7(h0)
    b2 = concat(sep3x3(h0), avg3x3(b0))
    b3 = sep5x5(b2) + sep3x3(b1)
    b4 = sep5x5(b1) + max5x5(h1)
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
