# best of search run enas-s2: trial 63, strategy enas, reward 0.9355 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1180
# decisions: 0 1 4 2 0 1 1 3 1 1 1 1 9 5 0 2 4 1 4 0 3 4 3 12 1 0 0 3 12 1 1 2 4 8 1 0 2 10 1 1 3 2 9 6 0 5 2 0 11 1

cell best_normal : normal {
    b0 = avg3x3(h0) + conv1x7_7x1(h1)
    b1 = concat(dil3x3(h1), conv1x3_3x1(h1))
    b2 = conv3x3(h1) + max3x3(h1)
    b3 = conv1x3_3x1(b0) + avg3x3(b2)
    b4 = concat(dil3x3(b1), sep7x7(b2))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(dil3x3(h0), sep7x7(h0))
    b1 = concat(avg3x3(h1), conv1x1(b0))
    b2 = concat(sep3x3(h0), conv1x3_3x1(b0))
    b3 = conv3x3(b1) + max5x5(b0)
    b4 = concat(id(b3), sep5x5(b0))
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
