"""The IR: one networkx graph per cell, the passes over it (shape, cse, fold-identity, dead-block, lanes) and
the static cost of a network."""
