"""``python -m gitreg``."""

from gitreg.cli import main

if __name__ == "__main__":
    main()
