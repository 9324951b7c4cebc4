"""``python -m dbmedic.cli``: the same as the ``dbmedic`` command."""

from dbmedic.cli import main

main()
