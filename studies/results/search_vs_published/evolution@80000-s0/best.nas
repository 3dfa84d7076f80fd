# best of search run evolution@80000-s0: trial 203, strategy evolution, reward 0.9385 (accuracy, digits)
# decisions: 1 1 10 5 0 1 0 12 0 0 1 3 9 6 0 0 1 0 3 1 2 5 5 4 0 0 0 4 5 0 1 0 5 6 0 0 3 6 0 0 1 2 2 11 0 5 0 6 5 0

cell best_normal : normal {
    b0 = sep3x3(h1) + max3x3(h1)
    b1 = sep7x7(h1) + id(h0)
    b2 = conv3x3(h1) + max5x5(b1)
    b3 = concat(id(h0), dil3x3(h1))
    b4 = max3x3(b0) + avg3x3(b3)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = avg3x3(h0) + max3x3(h0)
    b1 = max3x3(h1) + max5x5(h0)
    b2 = max5x5(h0) + id(b1)
    b3 = conv1x7_7x1(h1) + sep5x5(b0)
    b4 = max5x5(b3) + max3x3(h0)
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
