# best of search run random-ws-s4: trial 13, strategy random-ws, reward 0.9369 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1520
# decisions: 1 1 4 7 1 0 0 7 11 0 0 3 6 6 0 0 3 4 0 0 1 4 8 11 0 1 1 3 11 1 1 1 9 5 0 1 1 2 2 1 2 0 9 5 0 5 0 1 10 0

cell best_normal : normal {
    b0 = concat(avg3x3(h1), max7x7(h1))
    b1 = max7x7(h0) + sep5x5(h0)
    b2 = max5x5(h0) + max5x5(b1)
    b3 = avg3x3(h0) + id(b1)
    b4 = conv1x1(h1) + sep5x5(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(dil3x3(h1), sep5x5(h1))
    b1 = conv3x3(h1) + max3x3(h1)
    b2 = concat(conv1x7_7x1(h1), conv1x7_7x1(h1))
    b3 = conv3x3(b0) + max3x3(h0)
    b4 = conv1x3_3x1(b3) + sep3x3(h0)
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
