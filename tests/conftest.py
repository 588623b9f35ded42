import os

import pytest
import torch

# `make test` runs two pytest workers on two cores: one thread each, or four OpenMP threads
# would spin on two cores (the slowdown the README warns of on busy machines).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
