"""`python -m nasdsl ...` is the `nasdsl` command (what `torchrun ... -m nasdsl train ...` runs)."""
import sys

from .cli.dispatch import main

sys.exit(main())
