"""``python -m labelscope ...``: the same as the ``labelscope`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
