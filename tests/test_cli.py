"""The command line: the tutorial log, --json, stdin, exact mode and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from linreg_core._cli import main


def run_cli(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_mode_prints_the_tutorial_log_and_summary(tutorial_csv, capsys):
    code, out, err = run_cli(["fit", tutorial_csv, "--y", "y", "--device", "cpu"], capsys)
    assert code == 0 and err == ""
    log = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
    assert len(log) == 100
    assert log[0].startswith("epoch 1, loss ") and log[-1].startswith("epoch 100, loss ")
    assert float(log[1].split("loss ")[1]) < float(log[0].split("loss ")[1])
    assert "gradient descent" in out and "exact" in out and "R²" in out
    assert "y = " in out and "Predictions" in out


def test_log_every(tutorial_csv, capsys):
    _, out, _ = run_cli(["fit", tutorial_csv, "--y", "y", "--log-every", "25", "--device", "cpu"], capsys)
    epochs = [int(ln.split(",")[0].split()[1]) for ln in out.splitlines() if ln.startswith("epoch ")]
    assert epochs == [1, 25, 50, 75, 100]


def test_json_mode_is_one_object_matching_the_log(tutorial_csv, capsys):
    _, text, _ = run_cli(["fit", tutorial_csv, "--y", "y", "--device", "cpu"], capsys)
    code, out, _ = run_cli(["fit", tutorial_csv, "--y", "y", "--json", "--device", "cpu"], capsys)
    assert code == 0
    obj = json.loads(out)  # exactly one JSON object, nothing else on stdout
    for key in ("terms", "intercept", "coef", "loss_history", "status", "epochs_run", "device", "train_seconds",
                "exact", "metrics"):
        assert key in obj
    assert obj["terms"] == ["x"] and obj["status"] == "completed" and obj["epochs_run"] == 100
    assert obj["device"] == "cpu" and obj["train_seconds"] > 0
    logged = [float(ln.split("loss ")[1]) for ln in text.splitlines() if ln.startswith("epoch ")]
    assert obj["loss_history"] == logged
    assert obj["exact"]["coef"][0] == pytest.approx(2.0, abs=1e-12)
    assert obj["exact"]["intercept"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < obj["metrics"]["mse"] < obj["loss_history"][0]


def test_exact_method(tutorial_csv, capsys):
    code, out, _ = run_cli(["fit", tutorial_csv, "--y", "y", "--method", "exact", "--json"], capsys)
    obj = json.loads(out)
    assert code == 0 and obj["loss_history"] == [] and obj["epochs_run"] == 0
    assert obj["coef"] == obj["exact"]["coef"] and obj["intercept"] == obj["exact"]["intercept"]


def test_polynomial_and_no_intercept(tmp_path, capsys):
    path = tmp_path / "q.csv"
    path.write_text("t;v\n" + "".join(f"{x};{1 + 2 * x - 0.5 * x * x}\n" for x in range(-5, 6)))
    _, out, _ = run_cli(["fit", str(path), "--y", "v", "--degree", "2", "--method", "exact", "--json"], capsys)
    obj = json.loads(out)
    assert obj["terms"] == ["t", "t^2"]
    assert obj["intercept"] == pytest.approx(1.0) and obj["coef"] == pytest.approx([2.0, -0.5])
    _, out, _ = run_cli(["fit", str(path), "--y", "v", "--x", "t", "--no-intercept", "--json", "--epochs", "3",
                         "--device", "cpu"], capsys)
    obj = json.loads(out)
    assert obj["intercept"] is None and obj["exact"]["intercept"] is None and len(obj["coef"]) == 1


def test_options_reach_the_trainer(tutorial_csv, capsys):
    args = ["fit", tutorial_csv, "--y", "y", "--json", "--device", "cpu", "--optimizer", "adam", "--lr", "0.1",
            "--epochs", "30", "--batch-size", "2", "--standardize", "--seed", "4", "--dtype", "float64",
            "--init-weight", "1.5", "--init-bias", "0.5"]
    _, out, _ = run_cli(args, capsys)
    obj = json.loads(out)
    cfg = obj["config"]
    assert (cfg["optimizer"], cfg["lr"], cfg["epochs"], cfg["batch_size"], cfg["standardize"], cfg["seed"],
            cfg["dtype"], cfg["init_weight"], cfg["init_bias"]) == ("adam", 0.1, 30, 2, True, 4, "float64", [1.5], 0.5)
    assert obj["dtype"] == "float64" and len(obj["loss_history"]) == 30


@pytest.mark.parametrize("args,phrase", [
    (["--y", "price"], "Column 'price' not found. Available columns: 'x', 'y'."),
    (["--y", "y", "--lr", "-0.1"], "The 'lr' parameter must be a float > 0. Got -0.1 instead."),
    (["--y", "y", "--epochs", "0"], "'epochs' parameter must be an int"),
    (["--y", "y", "--degree", "4"], "too few to fit 5 parameters"),
    (["--y", "y", "--x", "y"], "cannot also be a feature"),
    (["--y", "y", "--device", "tpu"], "'device' parameter must be"),
    (["--y", "y", "--init-weight", "1", "--init-weight", "2"], "one value per term"),
    (["--y", "y", "--optimizer", "lbfgs"], "invalid choice"),
    (["--y", "y", "--lr", "abc"], "invalid float value"),
    ([], "the following arguments are required: --y"),
])
def test_bad_input_is_one_sentence_on_stderr_with_exit_2(tutorial_csv, capsys, args, phrase):
    try:
        code = main(["fit", tutorial_csv, *args])
    except SystemExit as exc:  # argparse's own checks exit from inside parse_args
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert phrase in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_file(capsys):
    code, out, err = run_cli(["fit", "/nonexistent/data.csv", "--y", "y"], capsys)
    assert code == 2 and "not found" in err and out == ""


def _module(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "linreg_core", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_module_entry_point_reads_stdin(tutorial_csv):
    with open(tutorial_csv) as fh:
        proc = _module("fit", "-", "--y", "y", "--json", "--device", "cpu", "--epochs", "5", stdin=fh.read())
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["loss_history"]) == 5


def test_module_entry_point_error_has_no_traceback():
    proc = _module("fit", "-", "--y", "y", stdin="")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: The CSV file is empty. Expected a header row and at least one data row."


def test_engine_flag_selects_the_reference_loop(tutorial_csv, capsys):
    base = ["fit", tutorial_csv, "--y", "y", "--json", "--device", "cpu", "--dtype", "float64"]
    main([*base, "--engine", "autograd"])
    ref = json.loads(capsys.readouterr().out)
    main(base)
    fast = json.loads(capsys.readouterr().out)
    assert ref["engine"] == "autograd" and fast["engine"] == "stats"
    assert fast["loss_history"] == pytest.approx(ref["loss_history"], rel=1e-9)
