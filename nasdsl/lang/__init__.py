"""The language: text -> AST -> validated Program (parse, load, validate, fmt, the op names, genotype
conversion), and which network a target means (resolve)."""
