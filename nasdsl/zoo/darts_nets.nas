# DARTS-family networks on the DARTS skeleton (Liu et al., ICLR 2019, cnn/model.py; NNI's hub
# builds the same): `skeleton = darts` stacks 3N + 2 cells with reductions at 1/3 and 2/3.
# Presets as in the DARTS code: darts_cifar = C 36, 20 layers (cells = 6), stem 3C, aux head,
# drop path 0.2; darts_imagenet = C 48, 14 layers (cells = 4), the two-conv stem, aux head, no
# drop path. AmoebaNet-A and ENAS are trained on the same skeleton in DARTS' comparisons.

import darts_v1_normal
import darts_v1_reduce
import darts_v2_normal
import darts_v2_reduce
import amoebanet_a_normal
import amoebanet_a_reduce
import enas_normal
import enas_reduce

network darts_v2_cifar {
    normal = darts_v2_normal
    reduction = darts_v2_reduce
    skeleton = darts
    stem = cifar
    cells = 6
    filters = 36
    image = 32
    classes = 10
    stem_multiplier = 3
    aux_head = true
    drop_path_keep = 0.8
    bn_eps = 1e-5
}

network darts_v1_cifar {
    normal = darts_v1_normal
    reduction = darts_v1_reduce
    skeleton = darts
    stem = cifar
    cells = 6
    filters = 36
    image = 32
    classes = 10
    stem_multiplier = 3
    aux_head = true
    drop_path_keep = 0.8
    bn_eps = 1e-5
}

network amoebanet_a_cifar {
    normal = amoebanet_a_normal
    reduction = amoebanet_a_reduce
    skeleton = darts
    stem = cifar
    cells = 6
    filters = 36
    image = 32
    classes = 10
    stem_multiplier = 3
    aux_head = true
    drop_path_keep = 0.8
    bn_eps = 1e-5
}

network enas_cifar {
    normal = enas_normal
    reduction = enas_reduce
    skeleton = darts
    stem = cifar
    cells = 6
    filters = 36
    image = 32
    classes = 10
    stem_multiplier = 3
    aux_head = true
    drop_path_keep = 0.8
    bn_eps = 1e-5
}

network darts_v2_imagenet {
    normal = darts_v2_normal
    reduction = darts_v2_reduce
    skeleton = darts
    stem = imagenet
    cells = 4
    filters = 48
    image = 224
    classes = 1000
    aux_head = true
    drop_path_keep = 1.0
    bn_eps = 1e-5
}

network darts_v1_imagenet {
    normal = darts_v1_normal
    reduction = darts_v1_reduce
    skeleton = darts
    stem = imagenet
    cells = 4
    filters = 48
    image = 224
    classes = 1000
    aux_head = true
    drop_path_keep = 1.0
    bn_eps = 1e-5
}

network amoebanet_a_imagenet {
    normal = amoebanet_a_normal
    reduction = amoebanet_a_reduce
    skeleton = darts
    stem = imagenet
    cells = 4
    filters = 48
    image = 224
    classes = 1000
    aux_head = true
    drop_path_keep = 1.0
    bn_eps = 1e-5
}

network enas_imagenet {
    normal = enas_normal
    reduction = enas_reduce
    skeleton = darts
    stem = imagenet
    cells = 4
    filters = 48
    image = 224
    classes = 1000
    aux_head = true
    drop_path_keep = 1.0
    bn_eps = 1e-5
}
