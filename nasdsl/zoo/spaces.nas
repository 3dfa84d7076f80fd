# Search spaces besides the NASNet one (in nasnet.nas). NASNet-B and NASNet-C exist only as
# figures in the NASNet paper (no released genotype); the zoo does not define them (see nasnet.nas).

# ENAS micro search (Pham et al. 2018): 5 ops, B = 5 nodes of two summed branches; the cell
# concatenates the nodes that no node reads.
space enas {
    blocks = 5
    ops = id, sep3x3, sep5x5, avg3x3, max3x3
    combine = add
    inputs = 2
    output = unused
}

# DARTS (Liu et al. 2019): 8 primitives including the zero op, 4 nodes of two summed edges; the
# cell concatenates all nodes. Children train on the DARTS skeleton, as in the DARTS code.
space darts {
    blocks = 4
    ops = none, max3x3, avg3x3, id, sep3x3, sep5x5, dil_sep3x3, dil_sep5x5
    combine = add
    inputs = 2
    output = blocks
    skeleton = darts
}
