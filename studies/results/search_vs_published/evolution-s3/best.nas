# best of search run evolution-s3: trial 240, strategy evolution, reward 0.9469 (accuracy, digits)
# decisions: 0 1 0 1 1 1 1 2 7 0 1 1 4 9 0 4 0 10 6 0 0 4 1 9 0 1 0 0 6 1 1 1 0 2 0 1 3 5 9 1 0 4 3 1 1 4 1 2 5 0

cell best_normal : normal {
    b0 = concat(id(h0), conv1x3_3x1(h1))
    b1 = conv1x7_7x1(h1) + max7x7(h1)
    b2 = avg3x3(h1) + conv3x3(h1)
    b3 = sep3x3(b2) + max5x5(h0)
    b4 = conv1x3_3x1(h0) + conv3x3(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(id(h1), max5x5(h0))
    b1 = id(h1) + conv1x7_7x1(h1)
    b2 = concat(max3x3(h1), conv3x3(b1))
    b3 = concat(dil3x3(h0), conv1x3_3x1(b2))
    b4 = conv1x7_7x1(b2) + max3x3(h1)
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
