"""torchrun as `train --nproc` runs it, ending without interpreter teardown once its ranks are
done, where a C++ thread of torch's (it hosts the rendezvous store) could abort it: "terminate
called without an active exception", seen once after a stop. Stopped by a signal it exits 128 + the
signal, without its SignalException traceback (the launcher says what stopped the run); when a
rank fails, torchrun's report of it, without the traceback of torchrun's own code, and exit 1; when
the ranks met a user mistake (which the launcher says once), exit 2 without a report. Its pid goes
to the ranks (train_cli.AGENT_ENV): a rank that finds another parent once its death signal is set
ends, since this process died before the signal could be asked for."""
from __future__ import annotations

import logging
import os
import sys

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import main

from .train_cli import AGENT_ENV, MISTAKE_ENV, mistakes_left


def _exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _mistake_said() -> bool:
    """A rank left the user's mistake for the launcher (train_cli.MISTAKE_ENV): not a failure to report."""
    mistake = os.environ.get(MISTAKE_ENV)
    return bool(mistake) and bool(mistakes_left(mistake))


if __name__ == "__main__":
    # their lines on a rank's failure, on a signal and on the closing signals sent to the ranks repeat
    # what the report or the launcher's stop line says
    logging.getLogger("torch.distributed.elastic.multiprocessing.api").setLevel(logging.CRITICAL)
    logging.getLogger("torch.distributed.elastic.agent.server.api").setLevel(logging.ERROR)
    os.environ[AGENT_ENV] = str(os.getpid())  # the ranks' parent, for them to check once they can hear of its death
    try:
        main(sys.argv[1:])
    except SignalException as e:
        _exit(128 + int(e.sigval))
    except ChildFailedError as e:  # a rank failed: it said why; torchrun's report, without our traceback
        if _mistake_said():
            _exit(2)
        print(e.format_msg(), file=sys.stderr)
        _exit(1)
    _exit(0)
