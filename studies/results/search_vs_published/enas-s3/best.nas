# best of search run enas-s3: trial 109, strategy enas, reward 0.9292 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.1240
# decisions: 1 1 12 5 0 0 0 6 6 0 1 3 11 4 1 3 2 3 2 1 0 0 5 10 0 1 1 0 8 1 1 0 0 9 0 1 3 10 12 1 2 3 2 3 1 0 3 5 12 1

cell best_normal : normal {
    b0 = sep7x7(h1) + max3x3(h1)
    b1 = max5x5(h0) + max5x5(h0)
    b2 = concat(sep5x5(h1), avg3x3(b1))
    b3 = concat(dil3x3(b1), conv1x7_7x1(b0))
    b4 = max3x3(h0) + sep3x3(h0)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(id(h1), conv1x1(h1))
    b1 = id(h1) + conv3x3(h0)
    b2 = concat(sep3x3(h1), sep7x7(b1))
    b3 = concat(conv1x7_7x1(b0), dil3x3(b1))
    b4 = concat(max3x3(h0), sep7x7(b1))
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
