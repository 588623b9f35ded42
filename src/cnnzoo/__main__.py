"""``python -m cnnzoo``: the same as the ``cnnzoo`` command (and what ``torchrun -m`` runs)."""

import sys

from cnnzoo.cli import main

sys.exit(main())
