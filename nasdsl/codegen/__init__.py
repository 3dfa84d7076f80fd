"""Back ends of a network plan: the generated PyTorch source and its runtime layers, the supernet of a
space, and the eager interpreter that checks them."""
