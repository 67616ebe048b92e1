"""The Python example of the README; docs pull the lines between the markers."""

import pytest


def test_readme_example(capsys):
    # example-begin python-readme
    import numpy as np, mlr
    scores = np.array([[0.9, 0.2], [0.3, 0.8], [0.6, 0.4]])  # N x C, untransformed
    labels = np.array([[0, 1], [1, 1], [1, -1]])            # 1 positive, 0 negative, -1 ignored
    result = mlr.mean_average_precision(scores, labels)     # step AP = scikit-learn's, macro
    print(result.value, result.per_class)                   # 0.7916... [0.5833... 1.]
    # example-end python-readme
    assert result.per_class.tolist() == pytest.approx([7 / 12, 1.0], rel=1e-12, abs=1e-12)
    assert result.value == pytest.approx(19 / 24, rel=1e-12, abs=1e-12)
    assert capsys.readouterr().out.startswith("0.7916666666666666 [0.58333333 1.        ]")
