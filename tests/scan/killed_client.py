"""The ``sitewatch scan`` client, killed (SIGKILL) at an exact point of a scan in progress.

``python -m tests.scan.killed_client BATCH KILL_AT -- CLI ARGS...`` runs the CLI with its
finished tiles committed in batches of exactly ``BATCH`` (no age limit) and kills the
process as result number ``KILL_AT`` reaches the batching: every batch before it is
committed, the batch being filled is not. So the test knows exactly which tiles must
survive, whatever the machine's speed or load.
"""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from sitewatch.scan import cluster

T = TypeVar("T")


def main(batch: int, kill_at: int, cli: list[str]) -> None:
    batches = cluster.in_batches

    def killing_batches(items: Iterable[T], size: int, seconds: float) -> Iterator[list[T]]:
        def counted() -> Iterator[T]:
            for number, item in enumerate(items, start=1):
                if number == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield item

        return batches(counted(), batch, math.inf)

    cluster.in_batches = killing_batches
    from sitewatch.cli.main import run

    sys.argv = ["sitewatch", *cli]
    run()


if __name__ == "__main__":
    split = sys.argv.index("--")
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[split + 1 :])
