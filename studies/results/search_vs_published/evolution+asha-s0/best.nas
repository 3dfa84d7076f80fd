# best of search run evolution+asha-s0: trial 166, strategy evolution, reward 0.9432 (accuracy, digits)
# decisions: 0 1 0 1 0 0 2 0 4 1 1 1 12 9 1 1 0 6 7 1 3 1 5 6 0 0 1 11 2 1 0 0 2 7 1 3 3 12 10 1 1 1 7 3 0 3 0 3 10 1

cell best_normal : normal {
    b0 = id(h0) + conv1x3_3x1(h1)
    b1 = concat(id(h0), avg3x3(b0))
    b2 = concat(sep7x7(h1), conv3x3(h1))
    b3 = concat(max5x5(h1), max7x7(h0))
    b4 = max3x3(b1) + max5x5(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep5x5(h0), conv1x7_7x1(h1))
    b1 = concat(conv1x7_7x1(h0), max7x7(h0))
    b2 = concat(sep7x7(b1), sep3x3(b1))
    b3 = max7x7(h1) + dil3x3(h1)
    b4 = concat(dil3x3(b1), sep3x3(h0))
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
