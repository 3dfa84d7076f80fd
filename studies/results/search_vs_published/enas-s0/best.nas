# best of search run enas-s0: trial 86, strategy enas, reward 0.9329 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1240
# decisions: 1 0 0 10 1 0 0 0 7 0 1 2 2 10 0 3 1 12 0 1 3 3 6 8 1 0 0 6 5 0 1 2 8 5 0 3 1 1 5 1 0 1 4 11 1 1 0 9 2 1

cell best_normal : normal {
    b0 = concat(id(h1), sep3x3(h0))
    b1 = id(h0) + max7x7(h0)
    b2 = conv1x7_7x1(h1) + sep3x3(b0)
    b3 = concat(sep7x7(b1), id(h1))
    b4 = concat(max5x5(b1), conv1x1(b1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h0) + max3x3(h0)
    b1 = conv1x1(h1) + max3x3(b0)
    b2 = concat(conv1x3_3x1(b1), max3x3(h1))
    b3 = concat(avg3x3(h0), sep5x5(h1))
    b4 = concat(conv3x3(h1), conv1x7_7x1(h0))
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
