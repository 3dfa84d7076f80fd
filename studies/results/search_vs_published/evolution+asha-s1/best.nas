# best of search run evolution+asha-s1: trial 233, strategy evolution, reward 0.9439 (accuracy, digits)
# decisions: 1 1 2 1 1 0 2 5 5 1 2 0 1 7 1 1 1 2 7 0 2 4 5 10 0 1 1 0 9 0 2 0 7 10 0 1 3 7 1 1 1 1 2 5 0 0 0 9 8 1

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h1), conv1x3_3x1(h1))
    b1 = concat(max3x3(h0), max3x3(b0))
    b2 = concat(conv1x3_3x1(b0), max7x7(h0))
    b3 = conv1x7_7x1(h1) + max7x7(h1)
    b4 = max3x3(b0) + sep3x3(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h1) + conv3x3(h1)
    b1 = max7x7(b0) + sep3x3(h0)
    b2 = concat(max7x7(h1), conv1x3_3x1(b1))
    b3 = conv1x7_7x1(h1) + max3x3(h1)
    b4 = concat(conv3x3(h0), conv1x1(h0))
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
