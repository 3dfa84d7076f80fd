# best of search run random-ws-s1: trial 36, strategy random-ws, reward 0.9332 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1520
# decisions: 0 1 3 6 0 1 0 2 10 0 1 1 7 2 0 1 4 2 5 0 4 0 5 4 0 0 0 1 0 0 0 1 2 8 0 1 3 0 6 0 0 1 1 0 0 2 3 9 7 1

cell best_normal : normal {
    b0 = dil3x3(h0) + max5x5(h1)
    b1 = conv1x7_7x1(h1) + sep3x3(h0)
    b2 = max7x7(h1) + conv1x7_7x1(h1)
    b3 = conv1x7_7x1(h1) + max3x3(b2)
    b4 = max3x3(b2) + avg3x3(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x3_3x1(h0) + id(h0)
    b1 = conv1x7_7x1(h0) + conv1x1(h1)
    b2 = id(h1) + max5x5(b1)
    b3 = conv1x3_3x1(h0) + id(h1)
    b4 = concat(conv3x3(b0), max7x7(b1))
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
