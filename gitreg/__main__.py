"""``python -m gitreg``."""

from gitreg.console import main  # the quick path for common reads, else the click command line

if __name__ == "__main__":
    main()
