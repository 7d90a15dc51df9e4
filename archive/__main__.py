"""`python -m archive ...` runs the `archive` command (used for crawl children of the scheduler)."""

from archive.cli import main

if __name__ == "__main__":
    main()
