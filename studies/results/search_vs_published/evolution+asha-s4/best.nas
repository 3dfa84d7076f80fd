# best of search run evolution+asha-s4: trial 212, strategy evolution, reward 0.9512 (accuracy, digits)
# decisions: 1 0 9 4 0 2 1 4 0 0 0 2 2 4 0 4 2 7 2 0 0 0 12 2 1 1 0 2 2 1 1 1 3 1 1 2 1 3 1 1 1 3 7 9 1 1 2 11 8 1

cell best_normal : normal {
    b0 = conv3x3(h1) + avg3x3(h0)
    b1 = avg3x3(b0) + id(h1)
    b2 = conv1x7_7x1(h0) + avg3x3(b0)
    b3 = max7x7(b2) + conv1x7_7x1(b0)
    b4 = concat(sep7x7(h0), conv1x7_7x1(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), conv1x7_7x1(h0))
    b1 = concat(dil3x3(h1), conv1x3_3x1(h1))
    b2 = concat(dil3x3(b0), conv1x3_3x1(h1))
    b3 = concat(max7x7(h1), conv3x3(b1))
    b4 = concat(sep5x5(h1), conv1x1(b0))
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
