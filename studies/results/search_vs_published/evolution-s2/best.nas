# best of search run evolution-s2: trial 243, strategy evolution, reward 0.9479 (accuracy, digits)
# decisions: 1 1 1 5 1 2 2 4 4 0 0 1 6 10 1 2 2 3 4 1 0 0 5 5 1 0 1 6 2 0 1 0 0 12 1 1 1 8 1 1 4 0 2 7 1 3 4 2 11 0

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), max3x3(h1))
    b1 = avg3x3(b0) + avg3x3(b0)
    b2 = concat(max5x5(h0), sep3x3(h1))
    b3 = concat(dil3x3(b0), avg3x3(b0))
    b4 = concat(max3x3(h0), max3x3(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h0) + conv1x7_7x1(h1)
    b1 = concat(id(h1), sep7x7(h0))
    b2 = concat(conv1x1(h1), conv1x3_3x1(h1))
    b3 = concat(conv1x7_7x1(b2), max7x7(h0))
    b4 = conv1x7_7x1(b1) + sep5x5(b2)
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
