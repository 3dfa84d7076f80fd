"""`python -m nasdsl ...` is the `nasdsl` command (what `torchrun ... -m nasdsl train ...` runs)."""
import sys

from .cli import main

sys.exit(main())
