"""`python -m terminal.bench`: what scripts/bench runs."""

import sys

from terminal.bench import main

sys.exit(main())
