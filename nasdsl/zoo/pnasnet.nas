# PNASNet-5 (Liu et al., ECCV 2018) as released in TF-slim's pnasnet.py. One cell serves as the
# normal cell, the reduction cell (stride 2 on ops that read h0 or h1) and the ImageNet stem cell.

cell pnasnet5 {
    b0 = sep5x5(h1) + max3x3(h1)
    b1 = sep7x7(h0) + max3x3(h0)
    b2 = sep5x5(h0) + sep3x3(h0)
    b3 = sep3x3(b2) + max3x3(h0)
    b4 = sep3x3(h1) + id(h0)
    out = concat(blocks)
}

# 12 cells, reductions at cells 4 and 8 (counted among them): `N @ P` with P = 20 F.
network pnasnet5_large {
    normal = pnasnet5
    skeleton = pnasnet
    stem = imagenet
    cells = 4 @ 4320
    image = 331
    classes = 1000
    stem_multiplier = 3
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 0.6
    dropout_keep = 0.5
    bn_eps = 0.001
}

network pnasnet5_mobile {
    normal = pnasnet5
    skeleton = pnasnet
    stem = imagenet
    cells = 3 @ 1080
    image = 224
    classes = 1000
    stem_multiplier = 1
    skip_reduction_input = true
    aux_head = true
    drop_path_keep = 1.0
    dropout_keep = 0.5
    bn_eps = 0.001
}
