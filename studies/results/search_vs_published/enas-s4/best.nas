# best of search run enas-s4: trial 38, strategy enas, reward 0.9369 (accuracy, digits); trained stand-alone, shared-weight accuracy 0.4300
# decisions: 1 0 3 2 0 2 2 0 11 0 1 0 6 9 1 1 3 2 1 0 1 3 6 11 1 0 0 6 10 0 0 1 2 4 0 0 1 7 11 0 2 3 0 0 1 5 0 9 1 0

cell best_normal : normal {
    b0 = dil3x3(h1) + conv1x7_7x1(h0)
    b1 = id(b0) + sep5x5(b0)
    b2 = concat(max5x5(h1), conv3x3(h0))
    b3 = conv1x7_7x1(h1) + conv1x3_3x1(b1)
    b4 = concat(max5x5(h1), sep5x5(b1))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = max5x5(h0) + sep3x3(h0)
    b1 = conv1x7_7x1(h0) + avg3x3(h1)
    b2 = max7x7(h0) + sep5x5(h1)
    b3 = concat(id(b0), id(b1))
    b4 = conv3x3(b3) + conv1x3_3x1(h0)
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
