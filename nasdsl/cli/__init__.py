"""The layer above the compiler and the search: the `nasdsl` dispatcher, one module per subcommand, and
`nasdsl.search(...)`."""
