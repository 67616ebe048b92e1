"""mlr-eval's algorithm subcommands (mlr-eval ALGORITHM --INPUT FILE.npy ...): the same numbers
as the Python module on the same files, bit for bit, and as the independent torch references of
tests/reference (written from METHOD.md); the same option names and defaults; errors exit 2 with
one line naming the argument."""
import json
import pathlib
import re
import sys

import numpy as np
import pytest
import torch

from mlr_eval_support import ERROR_PREFIX, CRASH_MARKERS, reference, run, save

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import losses as ref_losses  # noqa: E402
import scoring as ref_scoring  # noqa: E402
import tagclip_refine as ref_refine  # noqa: E402

try:
    import mlr
except ImportError:  # the module is not built: only the CLI-side checks run
    mlr = None
needs_module = pytest.mark.skipif(mlr is None, reason="the Python module mlr is not on PYTHONPATH")


def _labels(rng, shape, values, p):
    return rng.choice(np.array(values, np.int8), size=shape, p=p)


# name -> (inputs generator(rng) -> {C++ name: float64 array}, array outputs, has a value, non-default options)
ALGORITHMS = {
    "region_similarity": (lambda r: {"visual": r.standard_normal((2, 5, 4)), "text": r.standard_normal((3, 4))},
                          ["out"], False, {}),
    "dualcoop_logits": (lambda r: {"visual": r.standard_normal((2, 6, 5)), "text_neg": r.standard_normal((3, 5)),
                                   "text_pos": r.standard_normal((3, 5))},
                        ["out"], False, {"spatial_scale": 7.5, "output_scale": 3.0}),
    "class_specific_aggregate": (lambda r: {"sim_pos": r.uniform(-1, 1, (2, 6, 3)),
                                            "sim_neg": r.uniform(-1, 1, (2, 6, 3))},
                                 ["out"], False, {"spatial_scale": 2.0, "output_scale": 10.0}),
    "dual_prompt_probability": (lambda r: {"logits": 5 * r.standard_normal((4, 2, 3))}, ["out"], False, {}),
    "dualcoop_logits_vjp": (lambda r: {"visual": r.standard_normal((2, 6, 5)), "text_neg": r.standard_normal((3, 5)),
                                       "text_pos": r.standard_normal((3, 5)),
                                       "grad_out": r.standard_normal((2, 2, 3))},
                            ["grad_text_neg", "grad_text_pos", "grad_visual"], False,
                            {"spatial_scale": 5.0, "output_scale": 2.0}),
    "mkt_scores": (lambda r: {"patches": r.standard_normal((2, 20, 5)), "global": r.standard_normal((2, 5)),
                              "label_emb": r.standard_normal((4, 5))},
                   ["out"], False, {"k": 3}),
    "tagclip_coarse": (lambda r: {"patches": r.standard_normal((6, 5)), "text": r.standard_normal((4, 5))},
                       ["out"], False, {"logit_scale": 50.0}),
    "asl_loss": (lambda r: {"logits": 3 * r.standard_normal((5, 4)),
                            "targets": _labels(r, (5, 4), [1, 0, -1], [0.3, 0.6, 0.1])},
                 ["gradient"], True,
                 {"gamma_neg": 2.0, "clip": 0.0, "focal_weight": "differentiable", "reduction": "mean"}),
    "asl_dual_loss": (lambda r: {"logits": 3 * r.standard_normal((5, 2, 4)),
                                 "targets": _labels(r, (5, 4), [1, 0, -1], [0.3, 0.6, 0.1])},
                      ["gradient"], True, {"gamma_neg": 3.0, "eps": 1e-5, "reduction": "mean"}),
    "ranking_loss": (lambda r: {"scores": r.standard_normal((5, 6)),
                                "targets": _labels(r, (5, 6), [1, -1, 0], [0.3, 0.6, 0.1])},
                     ["gradient"], True, {"margin": 0.5, "margin_rule": "consistent", "reduction": "sum"}),
    "l1_distillation": (lambda r: {"student": r.standard_normal((5, 4)), "teacher": r.standard_normal((5, 4))},
                        ["gradient"], True, {"reduction": "sum"}),
}
LABEL_INPUTS = {"targets"}


def flag(name):
    return "--" + name.replace("_", "-")


def make_inputs(name, dtype, seed=0):
    arrays = ALGORITHMS[name][0](np.random.default_rng(seed))
    return {k: (v if k in LABEL_INPUTS else v.astype(dtype)) for k, v in arrays.items()}


def write_inputs(tmp_path, arrays, fortran=False):
    files = {}
    for k, v in arrays.items():
        files[k] = save(tmp_path / f"{k}.npy", np.asfortranarray(v) if fortran else v)
    return files


def option_args(options):
    args = []
    for k, v in options.items():
        args += [flag(k), str(v)]
    return args


def run_cli(name, files, options=None, out_dir=None, extra=()):
    """(report JSON, {output name: array}) of one run with --out-dir and --json."""
    args = [name]
    for k, path in files.items():
        args += [flag(k), path]
    args += option_args(options or {})
    args += ["--out-dir", str(out_dir), "--json", *extra]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    outputs = {o: np.load(report["outputs"][o]["file"]) for o in ALGORITHMS[name][1]}
    return report, outputs


def run_module(name, files, options=None):
    """(value or None, {output name: array}) of the Python module on the same files."""
    kwargs = {("global_" if k == "global" else k): np.load(path) for k, path in files.items()}
    result = getattr(mlr, name)(**kwargs, **(options or {}))
    outputs, has_value = ALGORITHMS[name][1], ALGORITHMS[name][2]
    if has_value:
        return result[0], {"gradient": result[1]}
    if len(outputs) == 1:
        return None, {"out": result}
    return None, dict(zip(outputs, result))


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
    assert a.tobytes() == b.tobytes(), np.max(np.abs(a.astype(np.float64) - b))


# --- the same numbers as the Python module, bit for bit ---------------------------------------

@needs_module
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("non_default", [False, True])
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_same_numbers_as_the_module(tmp_path, name, dtype, non_default):
    options = ALGORITHMS[name][3] if non_default else {}
    files = write_inputs(tmp_path, make_inputs(name, dtype))
    report, outputs = run_cli(name, files, options, tmp_path / "out")
    value, expected = run_module(name, files, options)
    for o in ALGORITHMS[name][1]:
        assert outputs[o].dtype == dtype  # float32 in, float32 out; float64 in, float64 out
        assert_same_bits(outputs[o], expected[o])
        assert report["outputs"][o]["dtype"] == np.dtype(dtype).name
        assert report["outputs"][o]["shape"] == list(expected[o].shape)
    if value is not None:
        assert report["value"] == value  # %.17g round-trips the double exactly


@needs_module
@pytest.mark.parametrize("name", ["dualcoop_logits_vjp", "mkt_scores", "asl_dual_loss"])
def test_fortran_order_inputs(tmp_path, name):
    files = write_inputs(tmp_path, make_inputs(name, np.float32, seed=3), fortran=True)
    _, outputs = run_cli(name, files, None, tmp_path / "out")
    _, expected = run_module(name, files)
    for o in outputs:
        assert_same_bits(outputs[o], expected[o])


@pytest.mark.parametrize("name", ["dualcoop_logits", "ranking_loss"])
def test_thread_count_changes_nothing(tmp_path, name):
    files = write_inputs(tmp_path, make_inputs(name, np.float32, seed=5))
    one, a = run_cli(name, files, None, tmp_path / "a", ["--threads", "1"])
    two, b = run_cli(name, files, None, tmp_path / "b", ["--threads", "3"])
    for o in a:
        assert_same_bits(a[o], b[o])
    assert one.get("value") == two.get("value")


# --- the same option names and defaults as the module ----------------------------------------

def module_defaults(name):
    """{argument: default} from the pybind11 signature line of mlr.<name>."""
    signature = getattr(mlr, name).__doc__.splitlines()[0]
    return {k: v.strip("'") for k, v in re.findall(r"(\w+): [\w.]+ = ([^,)]+)", signature)}


@needs_module
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_defaults_and_option_names_are_the_modules(tmp_path, name):
    files = write_inputs(tmp_path, make_inputs(name, np.float64))
    report, _ = run_cli(name, files, None, tmp_path / "out")
    defaults = module_defaults(name)
    defaults.pop("threads", None)
    defaults.pop("workspace", None)
    assert set(report["options"]) == set(defaults)
    for k, v in report["options"].items():
        if isinstance(v, str):
            assert v == defaults[k]
        else:
            assert v == float(defaults[k]), (k, v, defaults[k])
    # --help shows every option with that default
    r = run(name, "--help")
    assert r.returncode == 0 and r.stderr == ""
    for k, v in report["options"].items():
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith(flag(k) + " "))
        assert re.search(r"Default %s\." % re.escape(str(v) if isinstance(v, str) else ("%g" % v)), line), line
    assert set(report["inputs"]) == set(ALGORITHMS[name][0](np.random.default_rng(0)))


# --- against the independent torch references ------------------------------------------------

def t(x):
    return torch.tensor(np.asarray(x, np.float64))


def reference_outputs(name, arrays, options):
    """{output name: float64 array} (and "value") from tests/reference, on float64 inputs."""
    a = {k: (v if k in LABEL_INPUTS else t(v)) for k, v in arrays.items()}
    if name == "dualcoop_logits_vjp":
        leaves = {k: a[k].clone().requires_grad_(True) for k in ("visual", "text_neg", "text_pos")}
        logits = ref_scoring.dualcoop_logits(leaves["visual"], leaves["text_neg"], leaves["text_pos"], **options)
        (logits * a["grad_out"]).sum().backward()
        return {"grad_" + k: v.grad.numpy() for k, v in leaves.items()}
    if name in ("asl_loss", "asl_dual_loss", "ranking_loss", "l1_distillation"):
        inputs = [arrays[k] for k in arrays]
        value, gradient = getattr(ref_losses, name)(*inputs, **options)
        return {"value": value, "gradient": gradient}
    fn = getattr(ref_scoring, name)
    args = list(a.values())
    return {"out": fn(*args, **options).detach().numpy()}


@pytest.mark.parametrize("non_default", [False, True])
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_against_the_torch_reference(tmp_path, name, non_default):
    options = ALGORITHMS[name][3] if non_default else {}
    arrays = make_inputs(name, np.float64, seed=11)
    report, outputs = run_cli(name, write_inputs(tmp_path, arrays), options, tmp_path / "out")
    expected = reference_outputs(name, arrays, options)
    for o, want in expected.items():
        got = report["value"] if o == "value" else outputs[o]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=f"{name} {o}")


def test_float32_value_against_the_reference(tmp_path):
    # float32 logits: the entries run in float32 as torch's float32 does; the sum in double
    arrays = make_inputs("asl_loss", np.float32, seed=2)
    report, outputs = run_cli("asl_loss", write_inputs(tmp_path, arrays), None, tmp_path / "out")
    value, gradient = ref_losses.asl_loss(arrays["logits"], arrays["targets"])
    assert abs(report["value"] - value) <= 1e-5 * abs(value)
    np.testing.assert_allclose(outputs["gradient"], gradient, rtol=1e-5, atol=1e-6)


# --- output forms ----------------------------------------------------------------------------

def test_out_file_and_table_line(tmp_path):
    files = write_inputs(tmp_path, make_inputs("asl_loss", np.float32))
    out = tmp_path / "g.npy"
    r = run("asl_loss", "--logits", files["logits"], "--targets", files["targets"], "--out", out)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("asl_loss(logits ")
    assert lines[1].startswith("options gamma_neg 4, gamma_pos 1, clip 0.05, eps 1e-08, focal_weight constant")
    value = float(next(l for l in lines if l.startswith("value ")).split()[1])
    report, outputs = run_cli("asl_loss", files, None, tmp_path / "dir")
    assert value == report["value"]
    assert_same_bits(np.load(out), outputs["gradient"])
    assert f"gradient float32 (5, 4) written to {out}" in lines


def test_loss_without_output_prints_the_value_only(tmp_path):
    files = write_inputs(tmp_path, make_inputs("l1_distillation", np.float64))
    r = run("l1_distillation", "--student", files["student"], "--teacher", files["teacher"], "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    s, u = np.load(files["student"]), np.load(files["teacher"])
    assert report["value"] == pytest.approx(np.abs(s - u).mean(), rel=1e-14)
    assert report["outputs"]["gradient"]["file"] is None
    assert not list(tmp_path.glob("gradient*"))


def test_multi_output_files_are_named_after_the_outputs(tmp_path):
    files = write_inputs(tmp_path, make_inputs("dualcoop_logits_vjp", np.float32))
    run_cli("dualcoop_logits_vjp", files, None, tmp_path / "new" / "dir")
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == [
        "grad_text_neg.npy", "grad_text_pos.npy", "grad_visual.npy"]


def test_help_lists_the_algorithms():
    r = run("--help")
    assert r.returncode == 0
    for name in [*ALGORITHMS, "tagclip_dmar", "tagclip_local"]:
        assert re.search(r"^  %s " % name, r.stdout, re.M), name
    r = run("dualcoop_logits_vjp", "--help")
    assert r.returncode == 0
    for text in ["--visual FILE.npy", "--text-neg FILE.npy", "--grad-out FILE.npy", "--spatial-scale V",
                 "Default 20.", "grad_visual", "--out-dir DIR"]:
        assert text in r.stdout, text
    assert "--out FILE.npy " not in r.stdout  # three arrays: --out-dir only


def test_metrics_cli_still_runs_on_files(tmp_path):
    s, l = np.array([[0.9, 0.1], [0.4, 0.8], [0.3, 0.2]]), np.array([[1, 0], [0, 1], [1, 0]], np.int8)
    r = run(save(tmp_path / "s.npy", s), save(tmp_path / "l.npy", l), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["value"] == pytest.approx(reference(s, l)["value"], abs=1e-12)


# --- bad input: exit 2, one line naming the argument (a usage hint after command-line errors) --

def assert_error(r, fragment, usage=None):
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert lines[0].startswith(ERROR_PREFIX) and fragment in lines[0], r.stderr
    assert not any(m in r.stderr for m in CRASH_MARKERS)
    if usage is None:
        assert len(lines) == 1, r.stderr
    else:
        assert len(lines) == 2 and lines[1].startswith("usage: mlr-eval " + usage + " --"), r.stderr


@pytest.fixture
def dual(tmp_path):
    arrays = make_inputs("dualcoop_logits", np.float32)
    return write_inputs(tmp_path, arrays), tmp_path


def dual_args(files, **replace):
    files = {**files, **replace}
    args = ["dualcoop_logits"]
    for k, v in files.items():
        if v is not None:
            args += [flag(k), v]
    return args


USAGE = [
    (lambda f, d: dual_args(f, text_pos=None) + ["--out", d / "o.npy"], "dualcoop_logits: missing --text-pos FILE.npy"),
    (lambda f, d: dual_args(f) + ["--frobnicate", "1", "--out", d / "o.npy"], "unknown option '--frobnicate'"),
    (lambda f, d: dual_args(f) + ["stray", "--out", d / "o.npy"], "unexpected argument 'stray'"),
    (lambda f, d: dual_args(f) + ["--visual", f["visual"], "--out", d / "o.npy"], "--visual is given twice"),
    (lambda f, d: dual_args(f), "expected --out FILE.npy or --out-dir DIR"),
    (lambda f, d: dual_args(f) + ["--out", d / "o.npy", "--out-dir", d], "--out and --out-dir exclude each other"),
    (lambda f, d: dual_args(f) + ["--spatial-scale", "big", "--out", d / "o.npy"],
     "--spatial-scale: expected a number, found 'big'"),
    (lambda f, d: dual_args(f) + ["--threads", "-1", "--out", d / "o.npy"], "--threads"),
    (lambda f, d: dual_args(f) + ["--json=1", "--out", d / "o.npy"], "--json takes no value"),
    (lambda f, d: dual_args(f) + ["--out"], "--out needs a value"),
]


@pytest.mark.parametrize("case", range(len(USAGE)))
def test_usage_errors(dual, case):
    files, d = dual
    args, fragment = USAGE[case]
    assert_error(run(*args(files, d)), fragment, usage="dualcoop_logits")


def test_policy_names_and_messages_are_the_libraries(tmp_path):
    files = write_inputs(tmp_path, make_inputs("ranking_loss", np.float32))
    r = run("ranking_loss", "--scores", files["scores"], "--targets", files["targets"], "--margin-rule", "strict")
    assert_error(r, "margin_rule: expected one of reference, consistent; found 'strict'", usage="ranking_loss")
    r = run("asl_loss", "--logits", files["scores"], "--targets", files["targets"], "--out", tmp_path / "g.npy",
            "--reduction", "avg")
    assert_error(r, "reduction: expected one of sum, mean; found 'avg'", usage="asl_loss")


def test_multi_output_refuses_out(dual):
    files, d = dual
    arrays = make_inputs("dualcoop_logits_vjp", np.float32)
    files = write_inputs(d, arrays)
    args = ["dualcoop_logits_vjp"] + sum(([flag(k), v] for k, v in files.items()), []) + ["--out", d / "o.npy"]
    assert_error(run(*args), "writes 3 arrays (grad_text_neg, grad_text_pos, grad_visual): use --out-dir DIR",
                 usage="dualcoop_logits_vjp")


def test_data_errors_carry_the_librarys_message(dual):
    files, d = dual
    out = ["--out", d / "o.npy"]
    # shape mismatch: the library's message
    wrong = save(d / "wrong.npy", np.ones((3, 4), np.float32))
    assert_error(run(*dual_args(files, text_pos=wrong), *out),
                 "text_pos: expected shape (3, 5) (that of text_neg), found (3, 4)")
    # rank, dtype, mixed dtypes: named with their file
    assert_error(run(*dual_args(files, visual=files["text_neg"]), *out),
                 f"visual ({files['text_neg']}): expected a 3-D array [B, L, D], found a 2-D array of shape (3, 5)")
    ints = save(d / "ints.npy", np.ones((2, 6, 5), np.int32))
    assert_error(run(*dual_args(files, visual=ints), *out),
                 f"visual ({ints}): expected dtype float32 or float64, found int32")
    f64 = save(d / "f64.npy", np.ones((3, 5)))
    assert_error(run(*dual_args(files, text_neg=f64), *out),
                 f"text_neg ({f64}): expected dtype float32 (that of visual), found float64")
    # a zero row, a non-finite entry: the library names them
    zero = np.load(files["text_neg"])
    zero[1] = 0
    assert_error(run(*dual_args(files, text_neg=save(d / "zero.npy", zero)), *out), "text_neg")
    nan = np.load(files["visual"])
    nan[1, 2, 3] = np.nan
    assert_error(run(*dual_args(files, visual=save(d / "nan.npy", nan)), *out), "visual")
    # a missing file, a damaged file
    assert_error(run(*dual_args(files, visual=str(d / "absent.npy")), *out), "absent.npy: cannot open")
    (d / "bad.npy").write_bytes(b"PK\x03\x04")
    assert_error(run(*dual_args(files, visual=str(d / "bad.npy")), *out), "not a .npy file")
    assert not (d / "o.npy").exists()


def test_label_and_option_errors_from_the_library(tmp_path):
    arrays = make_inputs("asl_loss", np.float32)
    arrays["targets"][2, 1] = 3
    files = write_inputs(tmp_path, arrays)
    r = run("asl_loss", "--logits", files["logits"], "--targets", files["targets"])
    assert_error(r, "targets")
    assert "(2, 1)" in r.stderr
    files = write_inputs(tmp_path, make_inputs("mkt_scores", np.float64))
    r = run("mkt_scores", *sum(([flag(k), v] for k, v in files.items()), []), "--k", "21", "--out", tmp_path / "o.npy")
    assert_error(r, "k: expected 1 <= k <= 20 (the patches per image), found 21")


# --- TagCLIP refinement: tagclip_dmar (arrays and boxes), tagclip_local ----------------------

DMAR_ARRAYS = ["vote_mask", "masked_attention", "first_refinement", "box_masks", "refined"]
DMAR_OPTIONS = {"vote_min": 3, "fuse_layers": (1, 2, 5), "mode": "corrected"}


def dmar_case(tmp_path, dtype, seed=1, grid=(5, 6)):
    case = ref_refine.structured_case(seed, grid, num_classes=8, num_foreground=5, layers=12, dim=16, dtype=dtype)
    return case, {"attn": save(tmp_path / "attn.npy", case["attn"]), "coarse": save(tmp_path / "coarse.npy", case["coarse"])}


def run_dmar(files, grid, options, out_dir):
    args = ["tagclip_dmar", "--attn", files["attn"], "--coarse", files["coarse"], "--grid", "%dx%d" % grid,
            "--out-dir", out_dir, "--json"]
    for k, v in options.items():
        args += [flag(k), ",".join(map(str, v)) if isinstance(v, tuple) else str(v)]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    return report, {o: np.load(report["outputs"][o]["file"]) for o in DMAR_ARRAYS}


@needs_module
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("non_default", [False, True])
def test_dmar_same_numbers_as_the_module(tmp_path, dtype, non_default):
    options = DMAR_OPTIONS if non_default else {}
    case, files = dmar_case(tmp_path, dtype)
    report, outputs = run_dmar(files, case["grid"], options, tmp_path / "out")
    expected = mlr.tagclip_dmar(np.load(files["attn"]), np.load(files["coarse"]), case["grid"], **options)
    for o in DMAR_ARRAYS:
        assert_same_bits(outputs[o], expected[o])
    assert [[tuple(b) for b in boxes] for boxes in report["boxes"]] == expected["boxes"]
    if not non_default:  # the module's defaults
        signature = mlr.tagclip_dmar.__doc__.splitlines()[0]
        layers = re.search(r"fuse_layers: \w+ = \(([\d, ]+)\)", signature).group(1)
        defaults = module_defaults("tagclip_dmar")
        assert report["options"] == {"grid": list(case["grid"]), "vote_min": int(defaults["vote_min"]),
                                     "fuse_layers": [int(x) for x in layers.split(",")], "mode": defaults["mode"]}
    local = run("tagclip_local", "--refined", report["outputs"]["refined"]["file"], "--num-foreground", 5,
                "--out", tmp_path / "local.npy")
    assert local.returncode == 0, local.stderr
    assert_same_bits(np.load(tmp_path / "local.npy"), mlr.tagclip_local(expected["refined"], 5))


@pytest.mark.parametrize("non_default", [False, True])
def test_dmar_against_the_numpy_reference(tmp_path, non_default):
    options = DMAR_OPTIONS if non_default else {}
    case, files = dmar_case(tmp_path, np.float64, seed=4, grid=(6, 5))
    report, outputs = run_dmar(files, case["grid"], options, tmp_path / "out")
    want = ref_refine.dmar(case["attn"], case["coarse"], case["grid"], **options)
    np.testing.assert_array_equal(outputs["vote_mask"], want["vote_mask"])
    np.testing.assert_array_equal(outputs["box_masks"], want["box_masks"])
    for o in ["masked_attention", "first_refinement", "refined"]:
        np.testing.assert_allclose(outputs[o], want[o], rtol=1e-12, atol=1e-15, err_msg=o)
    assert [sorted(map(tuple, b)) for b in report["boxes"]] == [sorted(map(tuple, b)) for b in want["boxes"]]
    r = run("tagclip_local", "--refined", report["outputs"]["refined"]["file"], "--num-foreground",
            case["num_foreground"], "--out", tmp_path / "local.npy")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "local.npy"),
                                  ref_refine.local_scores(outputs["refined"], case["num_foreground"]))


def test_dmar_errors(tmp_path):
    case, files = dmar_case(tmp_path, np.float32)
    base = ["tagclip_dmar", "--attn", files["attn"], "--coarse", files["coarse"], "--out-dir", tmp_path / "o"]
    assert_error(run(*base), "tagclip_dmar: missing --grid RxC", usage="tagclip_dmar")
    assert_error(run(*base, "--grid", "5by6"), "--grid: expected ROWSxCOLS such as 14x14, found '5by6'",
                 usage="tagclip_dmar")
    assert_error(run(*base, "--grid", "5x6", "--fuse-layers", "8,x"), "--fuse-layers: expected layer indices",
                 usage="tagclip_dmar")
    assert_error(run(*base, "--grid", "5x7"), "attn: expected shape")  # the library's message
    assert_error(run(*base, "--grid", "5x6", "--fuse-layers", "8,12"), "fuse_layers: expected layers in [0, 12)")
    assert_error(run(*base, "--grid", "5x6", "--vote-min", "13"), "vote_min")
    assert_error(run(*base, "--grid", "5x6", "--mode", "official"),
                 "mode: expected one of reference, corrected; found 'official'", usage="tagclip_dmar")
    assert_error(run("tagclip_local", "--refined", files["coarse"], "--num-foreground", 9, "--out", tmp_path / "l.npy"),
                 "num_foreground: expected a value in [1, K] = [1, 8], found 9")
    assert_error(run("tagclip_local", "--refined", files["coarse"], "--out", tmp_path / "l.npy"),
                 "tagclip_local: missing --num-foreground", usage="tagclip_local")


# --- region_boxes, and the steps that call an engine, with the engine's answers as a table -----

@pytest.mark.parametrize("mode", ["reference", "corrected"])
def test_region_boxes_against_the_reference_and_the_module(tmp_path, mode):
    rng = np.random.default_rng(7)
    for case in range(6):
        binary = (rng.random((7, 9)) < 0.35).astype(np.uint8)
        binary[2:5, 2:6] = 1
        binary[3, 3:5] = 0  # a hole
        binary[3, 4] = case % 2  # sometimes a region inside it (dropped)
        path = save(tmp_path / ("b%d.npy" % case), binary)
        r = run("region_boxes", "--binary", path, "--grid", "7x9", "--mode", mode, "--json")
        assert r.returncode == 0, r.stderr
        boxes = [tuple(b) for b in json.loads(r.stdout)["boxes"]]
        assert sorted(boxes) == sorted(ref_refine.external_boxes(binary.astype(bool), mode))
        if mlr is not None:
            assert boxes == [tuple(b) for b in mlr.region_boxes(binary, (7, 9), mode=mode)]
    r = run("region_boxes", "--binary", save(tmp_path / "f.npy", binary.astype(np.float32)), "--grid", "7x9")
    assert_error(r, "binary (%s): expected dtype uint8 (nonzero = foreground), found float32" % (tmp_path / "f.npy"))


def cwr_case(tmp_path, dtype, seed=3, grid=(6, 8)):
    """A structured image's refined scores and local scores (the reference's DMAR), and a table of
    the engine's K-way answers, one row per foreground class."""
    case = ref_refine.structured_case(seed, grid, num_classes=12, num_foreground=6, layers=12, dim=16, dtype=dtype)
    d = ref_refine.dmar(case["attn"], case["coarse"], grid)
    refined = d["refined"].astype(dtype)
    local = ref_refine.local_scores(refined, 6).astype(dtype)
    table = ref_refine.softmax_rows(np.random.default_rng(seed).normal(size=(6, 12)) * 3).astype(dtype)
    files = {"refined": save(tmp_path / "refined.npy", refined), "local": save(tmp_path / "local.npy", local),
             "global_scores": save(tmp_path / "g.npy", table)}
    return refined, local, table, files


@pytest.mark.parametrize("mode", ["reference", "corrected"])
def test_reidentify_against_the_reference_and_the_module(tmp_path, mode):
    refined, local, table, files = cwr_case(tmp_path, np.float64)
    args = ["tagclip_reidentify"] + [a for k, p in files.items() for a in (flag(k), p)]
    r = run(*args, "--grid", "6x8", "--num-foreground", 6, "--mode", mode, "--lambda", 0.25,
            "--out-dir", tmp_path / "o", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    out = {o: np.load(report["outputs"][o]["file"]) for o in ["final_scores", "labels", "global_scores"]}
    want = ref_refine.reidentify(refined, local, (6, 8), 6, lambda q: table[q["class_index"]], lam=0.25, mode=mode)
    assert len(want["candidates"]) > 0
    assert report["candidates"] == list(want["candidates"])
    assert [tuple(b) for b in report["boxes"]] == [tuple(b) for b in want["boxes"]]
    assert report["reidentified"] == [bool(x) for x in want["reidentified"]]
    np.testing.assert_allclose(out["final_scores"], want["final_scores"], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(out["labels"], want["labels"])
    np.testing.assert_array_equal(out["global_scores"], want["global_scores"])  # NaN rows included
    if mlr is not None:
        m = mlr.tagclip_reidentify(refined, local, (6, 8), 6, lambda q: table[q["class_index"]], lam=0.25, mode=mode)
        for o in ["final_scores", "labels", "global_scores"]:
            np.testing.assert_array_equal(out[o], m[o])


def test_reidentify_checks_the_answer_table(tmp_path):
    refined, local, table, files = cwr_case(tmp_path, np.float32)
    files["global_scores"] = save(tmp_path / "short.npy", table[:4])
    args = ["tagclip_reidentify"] + [a for k, p in files.items() for a in (flag(k), p)]
    assert_error(run(*args, "--grid", "6x8", "--num-foreground", 6, "--out-dir", tmp_path / "o"),
                 "global_scores: expected shape (6, 12) (num_foreground x K), found (4, 12)")


@pytest.mark.parametrize("mode", ["reference", "corrected"])
def test_classify_against_the_reference_and_the_module(tmp_path, mode):
    case = ref_refine.structured_case(5, (6, 8), num_classes=12, num_foreground=6, layers=12, dim=16)
    features = case["text"][:6] + 0.3 * np.random.default_rng(5).normal(size=(6, 16))
    files = {"attn": save(tmp_path / "attn.npy", case["attn"]), "tokens": save(tmp_path / "tokens.npy", case["tokens"]),
             "text": save(tmp_path / "text.npy", case["text"]), "global_features": save(tmp_path / "f.npy", features)}
    args = ["tagclip_classify"] + [a for k, p in files.items() for a in (flag(k), p)]
    r = run(*args, "--grid", "6x8", "--num-foreground", 6, "--mode", mode, "--out-dir", tmp_path / "o", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    names = ["coarse", "refined", "local", "final_scores", "labels", "global_scores"]
    out = {o: np.load(report["outputs"][o]["file"]) for o in names}
    want = ref_refine.classify(case["attn"], case["tokens"], case["text"], (6, 8), 6,
                               lambda q: features[q["class_index"]], mode=mode)
    assert report["candidates"] == list(want["cwr"]["candidates"])
    np.testing.assert_allclose(out["coarse"], want["coarse"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(out["refined"], want["dmar"]["refined"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(out["final_scores"], want["cwr"]["final_scores"], rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(out["labels"], want["cwr"]["labels"])
    if mlr is not None:
        m = mlr.tagclip_classify(case["attn"], case["tokens"], case["text"], (6, 8), 6,
                                 lambda q: features[q["class_index"]], mode=mode)
        np.testing.assert_array_equal(out["final_scores"], m["cwr"]["final_scores"])
        np.testing.assert_array_equal(out["refined"], m["dmar"]["refined"])
