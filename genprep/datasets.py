"""Small data sets that need no download: the 1,797 8×8 handwritten digits
that scikit-learn ships inside its package.

Read straight from sklearn's CSV file: `import sklearn` (with SciPy behind it)
takes about a second, longer than the tests that use the digits.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from genprep.bank import layout

DIGITS_FILE = ("datasets", "data", "digits.csv.gz")  # inside the sklearn package
DIGITS_SHAPE = (1797, 65)  # 64 pixels (values 0..16), then the label


class MissingData(RuntimeError):
    """A bundled data set is not installed; the message says what to install."""


def digits():
    """(pixels, labels): float64 (1797, 64) with values 0..16, int64 (1797,) with labels 0..9.

    The same arrays as `sklearn.datasets.load_digits()` gives as `.data` and `.target`.
    """
    import numpy as np

    spec = importlib.util.find_spec("sklearn")
    found = [Path(p).joinpath(*DIGITS_FILE) for p in (spec.submodule_search_locations or [])] if spec else []
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        raise MissingData("the 8×8 digits come with scikit-learn, which is not installed: "
                          f"{layout.install_hint('test')} (or: pip install scikit-learn)")
    table = np.loadtxt(path, delimiter=",")
    if table.shape != DIGITS_SHAPE:
        raise MissingData(f"{path} holds a table of shape {table.shape}, expected {DIGITS_SHAPE}: "
                          "reinstall scikit-learn")
    return table[:, :-1], table[:, -1].astype(np.int64)
