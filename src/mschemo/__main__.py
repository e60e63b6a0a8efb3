"""``python -m mschemo ...``: the command line."""

from mschemo.interfaces.cli import main

if __name__ == "__main__":
    main()
