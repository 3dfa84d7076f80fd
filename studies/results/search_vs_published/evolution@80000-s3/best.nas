# best of search run evolution@80000-s3: trial 174, strategy evolution, reward 0.9429 (accuracy, digits)
# decisions: 1 1 4 0 1 1 2 10 4 1 1 0 6 6 1 0 0 12 3 0 0 0 5 8 1 1 1 4 6 1 1 1 12 6 0 1 1 5 7 0 0 0 5 4 1 1 4 11 9 1

cell best_normal : normal {
    b0 = concat(avg3x3(h1), id(h1))
    b1 = concat(sep3x3(h1), avg3x3(b0))
    b2 = concat(max5x5(h1), max5x5(h0))
    b3 = sep7x7(h0) + dil3x3(h0)
    b4 = concat(max3x3(h0), conv1x1(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(avg3x3(h1), max5x5(h1))
    b1 = sep7x7(h1) + max5x5(h1)
    b2 = max3x3(h1) + max7x7(h1)
    b3 = concat(max3x3(h0), avg3x3(h0))
    b4 = concat(sep5x5(h1), conv3x3(b2))
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
