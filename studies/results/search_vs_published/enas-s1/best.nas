# best of search run enas-s1: trial 112, strategy enas, reward 0.9382 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1080
# decisions: 0 1 3 0 0 1 2 5 1 0 0 2 11 4 1 0 2 9 3 0 1 2 6 4 0 1 0 1 2 0 2 1 3 9 0 2 0 10 6 0 4 4 0 11 1 1 3 2 1 0

cell best_normal : normal {
    b0 = dil3x3(h0) + id(h1)
    b1 = max3x3(h1) + conv1x3_3x1(b0)
    b2 = concat(sep5x5(h0), avg3x3(b0))
    b3 = conv3x3(h0) + dil3x3(b0)
    b4 = max5x5(h1) + avg3x3(b0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = conv1x3_3x1(h1) + conv1x7_7x1(h0)
    b1 = dil3x3(b0) + conv3x3(h1)
    b2 = sep3x3(b0) + max5x5(h0)
    b3 = concat(id(b2), sep5x5(b2))
    b4 = conv1x7_7x1(h1) + conv1x3_3x1(b1)
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
