# best of search run random-ws-s0: trial 10, strategy random-ws, reward 0.9379 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1480
# decisions: 1 1 1 5 1 2 0 3 4 1 3 2 8 0 1 0 0 3 6 0 5 1 6 4 0 1 1 5 4 1 1 2 2 6 0 2 1 2 6 1 0 2 7 10 0 1 1 9 2 0

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), max3x3(h1))
    b1 = concat(dil3x3(b0), avg3x3(h0))
    b2 = concat(conv1x1(b1), id(b0))
    b3 = dil3x3(h0) + max5x5(h0)
    b4 = max5x5(b3) + avg3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(max3x3(h1), avg3x3(h1))
    b1 = conv1x7_7x1(h1) + max5x5(b0)
    b2 = concat(conv1x7_7x1(b0), max5x5(h1))
    b3 = max7x7(h0) + sep3x3(b0)
    b4 = conv3x3(h1) + conv1x7_7x1(h1)
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
