# best of search run enas-s4: trial 161, strategy enas, reward 0.9342 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.0960
# decisions: 0 1 6 12 0 1 2 2 9 0 0 0 6 1 0 4 4 3 5 1 2 4 9 0 1 0 1 9 10 0 1 0 3 1 1 1 2 12 4 1 1 0 10 2 1 1 5 5 3 0

cell best_normal : normal {
    b0 = max5x5(h0) + sep7x7(h1)
    b1 = conv1x7_7x1(h1) + conv3x3(b0)
    b2 = max5x5(h0) + conv1x3_3x1(h0)
    b3 = concat(dil3x3(b2), max3x3(b2))
    b4 = concat(conv3x3(b0), id(b2))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv3x3(h0) + sep3x3(h1)
    b1 = concat(dil3x3(h1), conv1x3_3x1(h0))
    b2 = concat(sep7x7(h1), avg3x3(b0))
    b3 = concat(sep3x3(h1), conv1x7_7x1(h0))
    b4 = max3x3(h1) + dil3x3(b3)
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
