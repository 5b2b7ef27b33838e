"""One exit-status table for the whole `closeloop` command (documented in the README).

Scripts and CI jobs branch on these numbers, so every command returns one of them and the
same situation gives the same number in every command group: a tampered log and a refused
decision are both "the answer is no" (1); a log that cannot even be opened is not
"tampered" but "cannot check" (2), like a usage error; an unreachable Temporal, Kafka or
database is 3, so an operator knows to look at the services rather than the input.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # done; for `verify`: intact; for `status`: every part up, lag and checkpoint in bounds
    REFUSED = 1  # refused, or a check failed (tampered, a part down, a bound of `status` passed)
    USAGE = 2  # bad options or input, or the thing to check cannot be read at all
    UNREACHABLE = 3  # Temporal, Kafka or the database did not answer
    INTERRUPTED = 130  # Ctrl-C
