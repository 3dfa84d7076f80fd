# best of search run evolution-s4: trial 240, strategy evolution, reward 0.9512 (accuracy, digits)
# decisions: 1 1 3 5 0 2 0 0 2 0 1 2 3 12 1 1 3 5 4 1 1 3 6 2 0 1 1 0 10 0 1 0 3 12 1 1 0 5 4 0 0 4 7 10 1 3 4 3 9 1

cell best_normal : normal {
    b0 = dil3x3(h1) + max3x3(h1)
    b1 = id(b0) + conv1x7_7x1(h0)
    b2 = concat(dil3x3(h1), sep7x7(b0))
    b3 = concat(max3x3(h1), avg3x3(b1))
    b4 = max5x5(h1) + conv1x7_7x1(b1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h1) + sep3x3(h1)
    b1 = concat(dil3x3(h1), sep7x7(h0))
    b2 = max3x3(h1) + avg3x3(h0)
    b3 = concat(max7x7(h0), sep3x3(b2))
    b4 = concat(dil3x3(b1), conv3x3(b2))
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
