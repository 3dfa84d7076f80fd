# best of search run random-ws-s2: trial 7, strategy random-ws, reward 0.9379 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1560
# decisions: 1 1 2 4 1 1 0 10 8 0 0 2 5 4 0 2 2 1 2 0 0 0 1 5 1 0 0 7 11 0 1 2 9 0 0 2 1 7 0 1 0 2 3 10 1 5 2 5 9 1

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h1), avg3x3(h1))
    b1 = sep3x3(h1) + conv1x1(h0)
    b2 = max3x3(h0) + avg3x3(b0)
    b3 = conv1x3_3x1(b0) + conv1x7_7x1(b0)
    b4 = concat(conv1x3_3x1(h0), max3x3(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max7x7(h0) + sep5x5(h0)
    b1 = conv3x3(h1) + id(b0)
    b2 = concat(max7x7(b0), id(h1))
    b3 = concat(dil3x3(h0), sep3x3(b0))
    b4 = concat(max3x3(b3), conv3x3(b0))
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
