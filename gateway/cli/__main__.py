"""``python -m gateway.cli``: the ``liaison`` command."""

import sys

from gateway.cli.program import run

sys.exit(run())
