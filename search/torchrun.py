"""torchrun as `train --nproc` runs it, ending without interpreter teardown once its ranks are
done, where a C++ thread of torch's (it hosts the rendezvous store) could abort it: "terminate
called without an active exception", seen once after a stop. Stopped by a signal it exits 128 + the
signal, without its SignalException traceback (the launcher says what stopped the run); when a
rank fails, torchrun's report of it, without the traceback of torchrun's own code, and exit 1."""
from __future__ import annotations

import os
import sys

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import main


def _exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SignalException as e:
        _exit(128 + int(e.sigval))
    except ChildFailedError as e:  # a rank failed: it said why; torchrun's report, without our traceback
        print(e.format_msg(), file=sys.stderr)
        _exit(1)
    _exit(0)
