"""pytest configuration of the Python module's tests.

The module under test is the `mlr` first on sys.path (CTest puts the build directory there);
the independent references live in tests/reference.
"""

import pathlib
import sys

TESTS = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "reference"))

import mlr  # noqa: E402


def pytest_report_header(config):
    return f"mlr {mlr.__version__} from {mlr.__file__}"
