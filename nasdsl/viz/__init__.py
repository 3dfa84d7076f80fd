"""Cell diagrams (SVG, PNG, DOT) and their layout."""
