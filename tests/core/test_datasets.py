"""genprep.datasets reads sklearn's bundled digits without importing sklearn."""
import importlib.util

import numpy as np
import pytest

from genprep import datasets


def test_digits_match_sklearn_load_digits():
    from sklearn.datasets import load_digits
    pixels, labels = datasets.digits()
    expected = load_digits()
    assert np.array_equal(pixels, expected.data)
    assert np.array_equal(labels, expected.target)
    assert labels.dtype == np.int64 and pixels.min() == 0 and pixels.max() == 16


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(datasets.MissingData, match="pip install scikit-learn"):
        datasets.digits()
