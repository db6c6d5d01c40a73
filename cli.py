"""Run the cowin-kit CLI from a source checkout: ``python cli.py --help``."""
from cowin_kit.cli import main

if __name__ == "__main__":
    main()
