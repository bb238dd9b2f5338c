"""`python -m podlife.cli`: the same as the `podlife` command (used for child runs)."""

import sys

from podlife.cli import main

sys.exit(main())
