import nasnet_a_normal
import nasnet_a_reduce
import pnasnet5

# NASNet-A concatenates 6 states: P = 24 F, so 1000 is not a multiple of 24.
network a {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    cells = 4 @ 1000
}

# PNASNet-5 concatenates 5 states: P = 20 F.
network b {
    normal = pnasnet5
    skeleton = pnasnet
    cells = 3 @ 1056
}

network c {
    normal = pnasnet5
    cells = 0 @ 2.5
}
