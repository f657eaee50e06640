"""``python -m labelscope ...``: the same as the ``labelscope`` command (background jobs run this)."""
import sys

from .cli import main

sys.exit(main())
