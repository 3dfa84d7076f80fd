# best of search run evolution-s1: trial 146, strategy evolution, reward 0.9446 (accuracy, digits)
# decisions: 0 0 6 2 0 2 1 4 2 0 3 1 0 0 0 4 1 0 9 0 3 0 3 0 1 1 0 10 3 1 1 1 10 4 1 1 1 9 7 0 1 1 9 11 1 2 4 2 10 0

cell best_normal : normal {
    b0 = max5x5(h0) + conv1x7_7x1(h0)
    b1 = avg3x3(b0) + conv1x7_7x1(h1)
    b2 = id(b1) + id(h1)
    b3 = id(b2) + conv3x3(h1)
    b4 = concat(dil3x3(b1), id(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(sep3x3(h1), dil3x3(h0))
    b1 = concat(sep3x3(h1), avg3x3(h1))
    b2 = conv3x3(h1) + max7x7(h1)
    b3 = concat(conv3x3(h1), sep5x5(h1))
    b4 = conv1x7_7x1(b0) + sep3x3(b2)
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
