# best of search run evolution@80000-s3: trial 409, strategy evolution, reward 0.9449 (accuracy, digits)
# decisions: 1 1 2 0 0 2 1 7 6 1 2 0 0 6 0 1 1 5 8 1 1 1 0 6 0 1 1 9 11 0 1 0 5 7 0 0 2 8 4 0 2 0 1 5 0 2 5 5 4 0

cell best_normal : normal {
    b0 = conv1x7_7x1(h1) + id(h1)
    b1 = concat(max7x7(b0), max5x5(h1))
    b2 = id(b0) + max5x5(h0)
    b3 = concat(max3x3(h1), conv1x1(h1))
    b4 = id(h1) + max5x5(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv3x3(h1) + sep5x5(h1)
    b1 = max3x3(h1) + max7x7(h0)
    b2 = conv1x1(h0) + avg3x3(b0)
    b3 = conv1x3_3x1(b0) + max3x3(h0)
    b4 = max3x3(b0) + avg3x3(b3)
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
