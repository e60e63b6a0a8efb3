"""``python -m mschemo ...``: the command line."""

from mschemo.cli import main

if __name__ == "__main__":
    main()
