"""`python -m turnout.backend`: the same as the `turnout` command."""

import sys

from turnout.backend.cli import main

sys.exit(main())
