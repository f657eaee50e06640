"""``python -m labelscope ...``: the same as the ``labelscope`` command (background jobs run this)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
