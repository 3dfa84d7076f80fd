# best of search run evolution@80000-s0: trial 522, strategy evolution, reward 0.9482 (accuracy, digits)
# decisions: 1 0 1 0 1 0 1 0 8 0 1 3 6 2 0 4 1 0 12 1 4 2 4 1 0 0 1 5 5 0 1 2 5 0 0 2 0 5 9 0 0 1 10 0 0 1 1 6 8 0

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), id(h0))
    b1 = id(h0) + conv1x1(h1)
    b2 = max5x5(h1) + conv1x7_7x1(b1)
    b3 = concat(id(b2), sep7x7(h1))
    b4 = avg3x3(b2) + conv1x3_3x1(b0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max3x3(h0) + max3x3(h1)
    b1 = max3x3(h1) + id(b0)
    b2 = max3x3(b0) + conv3x3(h0)
    b3 = sep3x3(h0) + id(h1)
    b4 = max5x5(h1) + conv1x1(h1)
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
