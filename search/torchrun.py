"""torchrun as `train --nproc` runs it: stopped by a signal (its ranks already stopped), it exits
128 + the signal at once, without its SignalException traceback (the launcher says what stopped the
run) and without interpreter teardown, where a C++ thread of torch's could abort it ("terminate
called without an active exception")."""
from __future__ import annotations

import os
import sys

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.run import main

if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SignalException as e:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + int(e.sigval))
