"""``python -m profilerec.cli``: the same as the ``profilerec`` entry point."""

from profilerec.cli import main

main()
