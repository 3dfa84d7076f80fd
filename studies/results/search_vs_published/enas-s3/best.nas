# best of search run enas-s3: trial 1, strategy enas, reward 0.9329 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1700
# decisions: 0 0 5 6 0 1 0 5 0 1 1 3 10 1 1 2 4 5 1 0 2 1 9 11 1 1 1 0 7 0 0 1 3 8 1 1 0 2 5 0 1 4 3 7 0 0 4 1 5 1

cell best_normal : normal {
    b0 = max3x3(h0) + max5x5(h0)
    b1 = concat(max3x3(h1), id(h0))
    b2 = concat(sep3x3(h1), conv1x3_3x1(b1))
    b3 = max3x3(b0) + conv1x3_3x1(b2)
    b4 = concat(conv3x3(b0), sep5x5(h1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = id(h1) + max7x7(h1)
    b1 = concat(dil3x3(h0), conv1x1(h1))
    b2 = conv1x7_7x1(h1) + max3x3(h0)
    b3 = dil3x3(h1) + max7x7(b2)
    b4 = concat(conv1x3_3x1(h0), max3x3(b2))
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
