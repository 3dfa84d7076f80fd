# best of search run evolution+asha-s2: trial 270, strategy evolution, reward 0.9429 (accuracy, digits)
# decisions: 1 1 1 0 1 1 2 1 5 1 2 0 4 10 0 1 1 2 1 1 1 0 4 7 1 0 0 2 1 1 1 1 0 7 1 0 2 1 4 1 1 4 2 4 0 5 2 0 3 1

cell best_normal : normal {
    b0 = concat(conv1x3_3x1(h1), id(h1))
    b1 = concat(conv1x3_3x1(h1), max3x3(b0))
    b2 = avg3x3(b0) + sep3x3(h0)
    b3 = concat(conv1x7_7x1(h1), conv1x3_3x1(h1))
    b4 = concat(avg3x3(h1), max7x7(h0))
    out = concat(unused)
}

cell best_reduction : reduction {
    b0 = concat(conv1x7_7x1(h0), conv1x3_3x1(h0))
    b1 = concat(id(h1), max7x7(h1))
    b2 = concat(conv1x3_3x1(h0), avg3x3(b0))
    b3 = conv1x7_7x1(h1) + avg3x3(b2)
    b4 = concat(id(b3), dil3x3(b0))
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
