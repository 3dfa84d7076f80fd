# best of search run ppo-s3: trial 153, strategy ppo, reward 0.9419 (accuracy, digits)
# decisions: 1 0 2 4 0 0 1 3 3 0 3 1 5 1 0 4 1 1 6 0 0 1 7 4 0 1 1 9 0 1 0 0 4 5 1 2 2 2 9 0 0 2 0 10 0 0 2 0 3 0

cell best_normal : normal {
    b0 = conv1x7_7x1(h1) + avg3x3(h0)
    b1 = dil3x3(h0) + dil3x3(h1)
    b2 = max3x3(b1) + conv1x3_3x1(h1)
    b3 = conv1x3_3x1(b2) + max5x5(h1)
    b4 = max7x7(h0) + avg3x3(h1)
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv3x3(h1), id(h1))
    b1 = concat(avg3x3(h0), max3x3(h0))
    b2 = conv1x7_7x1(b0) + conv3x3(b0)
    b3 = id(h0) + sep3x3(b0)
    b4 = id(h0) + dil3x3(b0)
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
