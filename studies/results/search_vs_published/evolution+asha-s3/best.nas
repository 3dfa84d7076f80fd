# best of search run evolution+asha-s3: trial 350, strategy evolution, reward 0.9506 (accuracy, digits)
# decisions: 0 0 2 5 1 0 1 10 11 1 1 3 2 9 0 1 0 6 0 0 0 5 3 4 0 0 1 1 7 1 0 0 5 2 1 1 1 8 2 1 1 1 2 10 1 5 1 8 9 0

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h0), max3x3(h0))
    b1 = concat(sep3x3(h0), sep5x5(h1))
    b2 = conv1x7_7x1(h1) + conv3x3(b1)
    b3 = max5x5(h1) + id(h0)
    b4 = dil3x3(h0) + avg3x3(b3)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x3_3x1(h0), max7x7(h1))
    b1 = concat(max3x3(h0), conv1x7_7x1(h0))
    b2 = concat(conv1x1(h1), conv1x7_7x1(h1))
    b3 = concat(conv1x7_7x1(h1), sep3x3(h1))
    b4 = conv1x1(b3) + conv3x3(h1)
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
