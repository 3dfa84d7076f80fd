# best of search run evolution-s4: trial 316, strategy evolution, reward 0.9506 (accuracy, digits)
# decisions: 0 1 4 2 0 0 0 9 5 0 3 2 4 5 1 2 2 3 12 1 2 1 4 7 0 1 0 2 0 0 0 2 7 8 0 1 1 5 10 1 4 1 10 4 1 2 4 2 0 0

cell best_normal : normal {
    b0 = avg3x3(h0) + conv1x7_7x1(h1)
    b1 = conv3x3(h0) + max3x3(h0)
    b2 = concat(avg3x3(b1), max3x3(b0))
    b3 = concat(dil3x3(b0), sep7x7(b0))
    b4 = avg3x3(b0) + max7x7(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x7_7x1(h1) + id(h0)
    b1 = max7x7(h0) + conv1x1(b0)
    b2 = concat(max3x3(h1), sep3x3(h1))
    b3 = concat(sep3x3(b2), avg3x3(h1))
    b4 = conv1x7_7x1(b0) + id(b2)
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
