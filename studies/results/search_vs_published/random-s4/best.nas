# best of search run random-s4: trial 123, strategy random, reward 0.9352 (accuracy, digits)
# decisions: 1 0 2 6 1 1 1 6 11 0 0 3 8 0 1 1 0 8 2 0 3 0 11 11 1 1 1 2 4 1 2 2 11 8 1 2 1 8 2 0 4 0 0 11 0 2 5 4 10 1

cell best_normal : normal {
    b0 = concat(conv1x7_7x1(h1), max5x5(h0))
    b1 = max5x5(h1) + sep5x5(h1)
    b2 = concat(conv1x1(h0), id(b1))
    b3 = conv1x1(h1) + conv1x7_7x1(h0)
    b4 = concat(sep5x5(b1), sep5x5(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h1), avg3x3(h1))
    b1 = concat(sep5x5(b0), conv1x1(b0))
    b2 = conv1x1(b0) + conv1x7_7x1(h1)
    b3 = id(b2) + sep5x5(h0)
    b4 = concat(avg3x3(b0), sep3x3(b3))
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
