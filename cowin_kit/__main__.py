"""`python -m cowin_kit …` runs the `cowin-kit` command."""
from cowin_kit.cli import main

main()
