# best of search run evolution-s3: trial 138, strategy evolution, reward 0.9532 (accuracy, digits)
# decisions: 0 0 3 10 0 0 1 3 4 1 1 1 9 10 0 2 1 0 5 0 1 0 2 6 0 0 1 4 4 1 1 0 9 11 1 0 0 5 5 1 3 1 1 2 1 3 1 8 5 0

cell best_normal : normal {
    b0 = dil3x3(h0) + sep3x3(h0)
    b1 = concat(dil3x3(h0), avg3x3(h1))
    b2 = conv3x3(h1) + sep3x3(h1)
    b3 = id(b0) + max3x3(h1)
    b4 = conv1x7_7x1(h1) + max5x5(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(avg3x3(h0), avg3x3(h1))
    b1 = concat(conv3x3(h1), sep5x5(h0))
    b2 = concat(max3x3(h0), max3x3(h0))
    b3 = concat(conv1x3_3x1(b1), conv1x7_7x1(h1))
    b4 = conv1x1(b1) + max3x3(h1)
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
