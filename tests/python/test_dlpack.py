"""__dlpack__ inputs: torch tensors (contiguous, transposed, sliced with a step) give what their
numpy twins give, and the DLPack Python protocol is followed (a ctypes producer records what the
consumer does): versioned capsule asked first, capsule renamed when consumed, deleter called
exactly once, also on every error; device memory refused."""

import gc

import numpy as np
import pytest

import mlr
from dlpack_producer import (CODE_BOOL, CODE_COMPLEX, FLAG_READ_ONLY, KDL_CUDA, KDL_CUDA_HOST,
                             Producer, capsule_name, only_dlpack)
from support import assert_identical, problem, results

try:
    import torch
except ImportError:  # torch is optional; the ctypes producer tests still run
    torch = None

pytestmark = pytest.mark.skipif(not mlr._with_dlpack, reason="module built without DLPack")
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
TORCH_LABEL_DTYPES = ([torch.int8, torch.int32, torch.int64, torch.uint8, torch.float32,
                       torch.float64] if torch else [])
TORCH_SCORE_DTYPES = [torch.float32, torch.float64] if torch else []

# ---------------------------------------------------------------------------------------------
# torch tensors


@pytest.mark.parametrize("view", [
    lambda t: t,
    lambda t: t.T.contiguous().T,  # column-major
    lambda t: t[::2, 1::3],  # sliced with a step
    lambda t: t[1:, :][::3],
])
@pytest.mark.parametrize("score_dtype", TORCH_SCORE_DTYPES)
@pytest.mark.parametrize("label_dtype", TORCH_LABEL_DTYPES)
def test_torch_tensors_match_numpy(view, score_dtype, label_dtype):
    s, y = problem(n=80, c=9)
    ts = view(torch.from_numpy(s).to(score_dtype))
    ty = view(torch.from_numpy(y).to(label_dtype))
    expected = results(ts.numpy(), ty.numpy())
    assert_identical(results(ts, ty), expected)
    assert_identical(results(only_dlpack(ts), only_dlpack(ty)), expected)
    a = mlr.average_precision(ts[:, 1], ty[:, 1])
    np.testing.assert_array_equal(a.value, mlr.average_precision(ts[:, 1].numpy(),
                                                                 ty[:, 1].numpy()).value)


@needs_torch
def test_torch_transposed_tensor():
    s, y = problem(n=40, c=5)
    ts = torch.from_numpy(np.ascontiguousarray(s.T))
    ty = torch.from_numpy(np.ascontiguousarray(y.T))
    assert not ts.T.is_contiguous()
    assert_identical(results(ts.T, ty.T), results(s, y))


@needs_torch
def test_torch_tensors_survive_repeated_calls():
    s, y = problem()
    ts, ty = torch.from_numpy(s.copy()), torch.from_numpy(y.copy())
    for _ in range(200):
        mlr.mean_average_precision(ts, ty)
    np.testing.assert_array_equal(ts.numpy(), s)  # memory still valid and unchanged
    assert_identical(results(ts, ty), results(s, y))


@needs_torch
def test_torch_half_scores_are_refused():
    s, y = problem()
    with pytest.raises(ValueError, match=r"^scores: expected a dtype of float32, .*bits 16"):
        mlr.mean_average_precision(torch.from_numpy(s).half(), torch.from_numpy(y))


@needs_torch
def test_torch_integer_scores_are_refused():
    with pytest.raises(ValueError,
                       match=r"^scores: expected dtype float32 or float64, found int64$"):
        mlr.average_precision(torch.arange(4), torch.tensor([1, 0, 1, 0]))


# ---------------------------------------------------------------------------------------------
# DLPack: the ownership protocol, with a ctypes producer


def test_legacy_producer_is_asked_twice_and_its_capsule_consumed():
    s, y = problem()
    producer = Producer(s, knows_max_version=False)
    r = mlr.mean_average_precision(producer, y)
    assert producer.requests == [{"max_version": (1, 0)}, {}]
    assert [capsule_name(c) for c in producer.capsules] == ["used_dltensor"]
    assert producer.deleter_calls == 1
    producer.capsules.clear()
    gc.collect()
    assert producer.deleter_calls == 1  # the consumed capsule does not delete again
    assert r.value == mlr.mean_average_precision(s, y).value


@pytest.mark.parametrize("flags", [0, FLAG_READ_ONLY])
def test_versioned_producer(flags):
    s, y = problem()
    scores, labels = Producer(s, flags=flags), Producer(y)
    r = mlr.mean_average_precision(scores, labels)
    for p in (scores, labels):
        assert p.requests == [{"max_version": (1, 0)}]
        assert [capsule_name(c) for c in p.capsules] == ["used_dltensor_versioned"]
        assert p.deleter_calls == 1
        p.capsules.clear()
    gc.collect()
    assert scores.deleter_calls == labels.deleter_calls == 1
    assert_identical([(r.value, r.per_class, r.positives)], results(s, y)[:1])


def test_strided_producer():
    s, y = problem(n=30, c=8)
    view = np.ascontiguousarray(s.T).T[::2, 1::3]
    r = mlr.mean_average_precision(Producer(view), y[::2, 1::3])
    assert r.value == mlr.mean_average_precision(view, y[::2, 1::3]).value


def test_unsupported_major_version_is_not_consumed():
    s, y = problem()
    producer = Producer(s, version=(2, 0))
    with pytest.raises(ValueError, match=r"^scores: expected a DLPack tensor of major version 1, "
                                         r"found 2\.0$"):
        mlr.mean_average_precision(producer, y)
    assert [capsule_name(c) for c in producer.capsules] == ["dltensor_versioned"]
    assert producer.deleter_calls == 0
    producer.capsules.clear()
    gc.collect()
    assert producer.deleter_calls == 1  # the producer's capsule destructor cleaned up


@pytest.mark.parametrize("knows_max_version", [True, False])
def test_device_memory_is_refused_and_released(knows_max_version):
    s, y = problem()
    scores = Producer(s, device_type=KDL_CUDA, knows_max_version=knows_max_version)
    with pytest.raises(ValueError, match=r"^scores: expected a host tensor \(kDLCPU or "
                                         r"kDLCUDAHost\), found kDLCUDA \(device_type 2"):
        mlr.mean_average_precision(scores, y)
    assert scores.deleter_calls == 1
    labels = Producer(y, device_type=KDL_CUDA, knows_max_version=knows_max_version)
    with pytest.raises(ValueError, match=r"^labels: expected a host tensor"):
        mlr.mean_average_precision(s, labels)
    assert labels.deleter_calls == 1
    labels = Producer(y[:, 1], device_type=KDL_CUDA, knows_max_version=knows_max_version)
    with pytest.raises(ValueError, match=r"^labels: expected a host tensor"):
        mlr.average_precision(s[:, 1], labels)
    assert labels.deleter_calls == 1


def test_cuda_host_memory_is_host_memory():
    s, y = problem()
    r = mlr.mean_average_precision(Producer(s, device_type=KDL_CUDA_HOST), y)
    assert r.value == mlr.mean_average_precision(s, y).value


def test_dlpack_bool_labels():
    s, y = problem()
    labels = Producer(y.astype(bool), dtype=(CODE_BOOL, 8))
    assert_identical([(mlr.mean_average_precision(s, labels).value, 0, 0)],
                     [(mlr.mean_average_precision(s, y).value, 0, 0)])


def test_dlpack_errors_name_the_argument_and_release_the_tensor():
    s, y = problem()
    cases = [
        (Producer(s), Producer(y, dtype=(CODE_COMPLEX, 64)),
         r"^labels: expected a dtype of float32, float64, int8, int32, int64, uint8 or bool with "
         r"1 lane, found code 5 \(complex\), bits 64, lanes 1$"),
        (Producer(y.astype(np.int32)), Producer(y),
         r"^scores: expected dtype float32 or float64, found int32$"),
        (Producer(s[None]), Producer(y),
         r"^scores: expected a 2-D array \(N x C\), found a 3-D array of shape \(1, 60, 7\)$"),
        (Producer(np.where(np.arange(s.size).reshape(s.shape) == 9, np.inf, s)), Producer(y),
         r"^scores: expected finite values, found inf at \(1, 2\)$"),
        (Producer(s), Producer(np.where(y == 1, 2, y).astype(np.int8)),
         r"^labels: expected labels in the canonical encoding"),
    ]
    for scores, labels, message in cases:
        with pytest.raises(ValueError, match=message):
            mlr.mean_average_precision(scores, labels)
        assert scores.deleter_calls + labels.deleter_calls == len(scores.capsules) + len(
            labels.capsules)
        scores.capsules.clear()
        labels.capsules.clear()
        gc.collect()
        assert scores.deleter_calls <= 1 and labels.deleter_calls <= 1


def test_a_consumed_capsule_is_refused():
    s, y = problem()
    producer = Producer(s, capsule_name=b"used_dltensor")
    with pytest.raises(ValueError, match=r"^scores: expected a DLPack capsule named 'dltensor' or "
                                         r"'dltensor_versioned', found 'used_dltensor'"):
        mlr.mean_average_precision(producer, y)
    assert producer.deleter_calls == 0


def test_dlpack_that_returns_no_capsule():
    class Bad:
        def __dlpack__(self, **kwargs):
            return 42

    with pytest.raises(ValueError, match=r"^scores: expected __dlpack__\(\) to return a PyCapsule, "
                                         r"found int$"):
        mlr.average_precision(Bad(), [1, 0])


def test_many_calls_release_every_tensor():
    s, y = problem(n=10, c=3)
    producer = Producer(s)
    for _ in range(100):
        mlr.mean_average_precision(producer, y)
    assert producer.deleter_calls == 100
