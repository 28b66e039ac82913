"""``python -m regframe``: the same as the ``regframe`` console script."""

from regframe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
