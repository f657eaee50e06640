"""One module per ``labelscope`` command group; see ``labelscope.cli``."""
