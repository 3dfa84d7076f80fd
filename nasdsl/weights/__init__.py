"""Reference state_dicts (Cadene, timm, NNI) mapped onto the generated networks' names."""
