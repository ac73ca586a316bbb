"""`python -m turnout.backend`: the same as the `turnout` command."""

import sys

from turnout.backend.startup import main

sys.exit(main())
