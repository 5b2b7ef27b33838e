"""`python -m closeloop`: the same as the `closeloop` console script."""

from closeloop.cli import main

main()
