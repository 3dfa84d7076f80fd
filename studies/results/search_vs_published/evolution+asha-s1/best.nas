# best of search run evolution+asha-s1: trial 353, strategy evolution, reward 0.9506 (accuracy, digits)
# decisions: 1 1 2 9 1 0 2 5 5 0 1 0 0 7 0 1 1 2 7 0 3 4 0 12 0 0 1 0 0 1 1 0 7 2 0 0 3 4 1 1 2 1 2 5 1 1 5 2 8 0

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h1), conv3x3(h1))
    b1 = max3x3(h0) + max3x3(b0)
    b2 = id(h1) + max7x7(h0)
    b3 = conv1x7_7x1(h1) + max7x7(h1)
    b4 = id(b1) + sep7x7(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(id(h0), id(h1))
    b1 = max7x7(h1) + conv1x7_7x1(h0)
    b2 = concat(avg3x3(h0), conv1x3_3x1(b1))
    b3 = concat(conv1x7_7x1(b0), max3x3(h1))
    b4 = conv1x7_7x1(h1) + conv1x1(b3)
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
