"""Weights files (`files`: reading a user's) and reference state_dicts (Cadene, timm, NNI) mapped onto
the generated networks' names."""
