"""`python -m terminal.cli`: the same as the `qr-terminal` console script."""

import sys

from terminal.cli import main

sys.exit(main())
