# best of search run evolution@80000-s3: trial 3519, strategy evolution, reward 0.9409 (accuracy, digits)
# decisions: 1 0 3 5 0 0 1 8 1 0 3 1 4 7 0 2 0 5 4 1 2 0 0 7 0 1 1 5 4 1 1 0 11 8 0 1 0 9 6 0 4 4 0 0 1 1 4 3 11 0

cell best_normal : normal {
    b0 = dil3x3(h1) + max3x3(h0)
    b1 = conv1x1(h0) + conv1x3_3x1(h1)
    b2 = avg3x3(b1) + max7x7(h1)
    b3 = concat(max3x3(b0), avg3x3(h0))
    b4 = id(b0) + max7x7(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(max3x3(h1), avg3x3(h1))
    b1 = sep5x5(h1) + conv1x1(h0)
    b2 = conv3x3(h1) + max5x5(h0)
    b3 = concat(id(b2), id(b2))
    b4 = dil3x3(h1) + sep5x5(b2)
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
