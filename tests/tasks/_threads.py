"""One intra-op thread for task tests on tiny tensors: thread start-up and contention cost far more than they
save, badly so on a busy machine."""
import contextlib

import pytest
import torch


@contextlib.contextmanager
def single_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def one_thread():
    """Imported by a test module (`from _threads import one_thread`), it runs every test there on one thread."""
    with single_thread():
        yield
