# best of search run evolution+asha-s0: trial 352, strategy evolution, reward 0.9499 (accuracy, digits)
# decisions: 1 0 6 2 0 1 1 0 4 0 0 0 8 9 0 1 4 2 7 0 2 1 0 2 0 0 0 11 1 0 1 0 7 6 0 0 3 11 7 0 4 1 2 5 1 4 1 1 6 0

cell best_normal : normal {
    b0 = max5x5(h1) + conv1x7_7x1(h0)
    b1 = id(h1) + avg3x3(h1)
    b2 = conv1x1(h0) + conv3x3(h0)
    b3 = conv1x7_7x1(h1) + max7x7(b2)
    b4 = id(b0) + conv1x7_7x1(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = sep5x5(h0) + conv1x3_3x1(h0)
    b1 = max7x7(h1) + max5x5(h0)
    b2 = sep5x5(h0) + max7x7(b1)
    b3 = concat(conv1x7_7x1(b2), max3x3(h1))
    b4 = conv1x3_3x1(b2) + max5x5(h1)
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
