"""mlr.presets and mlr.protocol_of: the C++ preset table from Python, each option group usable as
keyword arguments of its function. The option values are those METHOD.md 4.8/4.9 gives for each
source; tests/apps/test_presets.py checks the numbers mlr-eval reports under each preset."""

import numpy as np
import pytest

import mlr

EXPECTED_AP = {
    "sklearn": ("step", "canonical", 0.0),
    "torchmetrics": ("step", "canonical", 0.0),
    "voc07_devkit": ("voc07_11point", "signed_zero_ignored", 0.0),
    "dualcoop": ("ranked", "canonical", 1e-8),
    "mkt": ("ranked", "signed_zero_ignored", 0.0),
    "tagclip": ("ranked", "canonical", 0.0),
    "mlgcn": ("ranked", "signed_zero_ignored", 0.0),
}


def test_every_preset_is_listed():
    assert mlr.presets == tuple(EXPECTED_AP)


@pytest.mark.parametrize("name", list(EXPECTED_AP))
def test_protocol_options_are_keyword_arguments(name):
    p = mlr.protocol_of(name)
    assert p.name == name
    method, encoding, epsilon = EXPECTED_AP[name]
    assert (p.ap["method"], p.ap["encoding"], p.ap["epsilon"]) == (method, encoding, epsilon)
    rng = np.random.default_rng(0)
    s = rng.uniform(size=(40, 5))
    y = np.where(rng.uniform(size=(40, 5)) < 0.4, 1, 0 if encoding == "canonical" else -1).astype(np.int8)
    mlr.mean_average_precision(s, y, **p.ap)
    if p.threshold is not None:
        mlr.threshold_metrics(s, y, **p.threshold)
    for k in p.top_k:
        mlr.top_k(s, y, k, **p.top_k_options)
    if p.lrap:
        mlr.label_ranking_average_precision(s, y, encoding=p.ap["encoding"])
    assert p.source


def test_what_each_source_reports():
    assert mlr.protocol_of("dualcoop").threshold["threshold"] == 0.5
    assert mlr.protocol_of("dualcoop").threshold["zero_division"] == "asl"
    assert mlr.protocol_of("dualcoop").top_k == [3, 5]
    assert mlr.protocol_of("mkt").top_k == [3, 5]
    assert mlr.protocol_of("mkt").top_k_options == {"encoding": "signed_zero_ignored", "ignored": "false_positive",
                                                    "zero_division": "biam"}
    assert mlr.protocol_of("tagclip").threshold["kind"] == "relative"
    assert mlr.protocol_of("mlgcn").threshold["count"] == "mlgcn"
    assert mlr.protocol_of("mlgcn").threshold["comparison"] == "greater_equal"
    assert mlr.protocol_of("sklearn").lrap and mlr.protocol_of("sklearn").threshold is None
    assert mlr.protocol_of("torchmetrics").top_k == []


def test_unknown_preset_names_the_accepted_ones():
    with pytest.raises(ValueError, match="preset: .*sklearn.*mlgcn"):
        mlr.protocol_of("coco")
