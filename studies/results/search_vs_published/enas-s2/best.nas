# best of search run enas-s2: trial 122, strategy enas, reward 0.8627 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1200
# decisions: 1 1 0 10 0 1 2 3 2 1 1 2 2 2 0 0 3 3 2 0 0 4 4 0 0 1 0 10 10 0 1 2 7 5 1 2 2 9 10 1 3 3 10 6 0 4 4 2 10 1

cell best_normal : normal {
    b0 = id(h1) + sep3x3(h1)
    b1 = concat(dil3x3(h1), conv1x7_7x1(b0))
    b2 = conv1x7_7x1(h1) + conv1x7_7x1(b0)
    b3 = dil3x3(h0) + conv1x7_7x1(b1)
    b4 = avg3x3(h0) + id(b2)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = sep3x3(h1) + sep3x3(h0)
    b1 = concat(max7x7(h1), max3x3(b0))
    b2 = concat(conv3x3(b0), sep3x3(b0))
    b3 = sep3x3(b1) + max5x5(b1)
    b4 = concat(conv1x7_7x1(b2), sep3x3(b2))
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
