# best of search run evolution@80000-s1: trial 187, strategy evolution, reward 0.9359 (accuracy, digits)
# decisions: 1 0 9 7 0 0 1 5 1 0 1 0 3 11 0 4 1 0 7 0 0 3 0 6 0 1 0 10 10 0 0 0 10 5 1 1 0 7 0 0 0 0 7 8 1 1 0 0 8 0

cell best_normal : normal {
    b0 = conv3x3(h1) + max7x7(h0)
    b1 = max3x3(h0) + conv1x3_3x1(h1)
    b2 = dil3x3(h1) + sep5x5(h0)
    b3 = id(b2) + max7x7(h1)
    b4 = id(h0) + max5x5(b1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = sep3x3(h1) + sep3x3(h0)
    b1 = concat(sep3x3(h0), max3x3(h0))
    b2 = max7x7(h1) + id(h0)
    b3 = concat(max7x7(h0), conv1x1(h0))
    b4 = id(h1) + conv1x1(h0)
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
