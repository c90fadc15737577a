"""``python -m gaitsim``: the command line (``gaitsim.cli``)."""

import sys

from .cli import main

sys.exit(main())
