"""``python -m verivote`` is the ``verivote`` command."""

import sys

from verivote.cli import main

sys.exit(main())
