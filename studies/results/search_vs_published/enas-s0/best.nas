# best of search run enas-s0: trial 113, strategy enas, reward 0.9419 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1120
# decisions: 0 1 0 1 0 1 0 4 9 0 2 1 3 5 0 0 2 9 2 1 1 3 9 7 0 1 1 1 11 1 1 0 2 6 0 0 1 11 10 0 1 1 2 8 0 0 2 4 7 0

cell best_normal : normal {
    b0 = id(h0) + conv1x3_3x1(h1)
    b1 = avg3x3(h1) + conv3x3(h0)
    b2 = dil3x3(b0) + max3x3(h1)
    b3 = concat(conv3x3(h0), conv1x7_7x1(b0))
    b4 = conv3x3(h1) + max7x7(b1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x3_3x1(h1), sep5x5(h1))
    b1 = conv1x7_7x1(h1) + max5x5(h0)
    b2 = sep5x5(h0) + sep3x3(h1)
    b3 = conv1x7_7x1(h1) + conv1x1(h1)
    b4 = avg3x3(h0) + max7x7(b0)
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
