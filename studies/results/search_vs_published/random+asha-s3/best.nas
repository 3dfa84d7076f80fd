# best of search run random+asha-s3: trial 400, strategy random, reward 0.9456 (accuracy, digits)
# decisions: 0 1 0 12 1 2 1 4 4 0 1 2 3 4 1 0 1 2 5 0 3 1 0 6 0 1 0 11 4 1 0 1 11 10 0 1 0 1 2 1 1 3 12 2 1 0 1 9 8 1

cell best_normal : normal {
    b0 = concat(id(h0), sep7x7(h1))
    b1 = avg3x3(b0) + avg3x3(h1)
    b2 = concat(dil3x3(h1), avg3x3(b0))
    b3 = conv1x7_7x1(h0) + max3x3(h1)
    b4 = id(b1) + max5x5(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep5x5(h1), avg3x3(h0))
    b1 = sep5x5(h0) + sep3x3(h1)
    b2 = concat(conv1x3_3x1(h1), conv1x7_7x1(h0))
    b3 = concat(sep7x7(h1), conv1x7_7x1(b1))
    b4 = concat(conv3x3(h0), conv1x1(h1))
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
