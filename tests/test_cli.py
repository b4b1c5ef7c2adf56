"""The command line: the tutorial log, --json, stdin, exact mode and one-sentence errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
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
    ([], "Name the model: --y COL (with --x COL ...) or --formula"),
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


# --------------------------------------------------------------------------- exits that are one line or quiet

LINUX_PROC = pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="watches the child through /proc")


def _spawn(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "linreg_core", *args], text=True, **kwargs)


def _shell(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` in bash with $PY set to this interpreter (for redirections such as 0<&-)."""
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={**os.environ, "PY": sys.executable})


def _until(proc: subprocess.Popen, ready) -> None:
    """Wait, without a time limit, until ``ready()``; fail if the process ends first."""
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the command ended (exit {proc.returncode}) before the moment the test waits for")
        time.sleep(0.005)


def _maps(proc: subprocess.Popen) -> str:
    try:
        return Path(f"/proc/{proc.pid}/maps").read_text()
    except OSError:
        return ""


def _has_open(proc: subprocess.Popen, path: Path) -> bool:
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir())
    except OSError:
        return False


def _wchan(proc: subprocess.Popen) -> str:
    try:
        return Path(f"/proc/{proc.pid}/wchan").read_text()
    except OSError:
        return ""


def _assert_interrupted(proc: subprocess.Popen) -> None:
    # Press Ctrl-C until the command ends: a library may swallow one press while it imports (torch does).
    while proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
    _, err = proc.communicate()
    assert (proc.returncode, err) == (130, "interrupted\n")


def test_reader_that_stops_early_ends_the_command_quietly(tutorial_csv, tmp_path):
    # `... | head -1`: enough log lines that the command is still writing when the reader goes away
    with open(tmp_path / "stderr", "w+") as err:
        proc = _spawn("fit", tutorial_csv, "--y", "y", "--device", "cpu", "--epochs", "200000", stdout=subprocess.PIPE,
                      stderr=err)
        assert proc.stdout.readline().startswith("epoch 1, loss ")
        proc.stdout.close()
        assert proc.wait() == 0
        err.seek(0)
        assert err.read() == ""  # no "error: BrokenPipeError", no "Exception ignored ... BrokenPipeError" at exit


def test_closed_stdin_is_one_sentence():
    proc = _shell('"$PY" -m linreg_core fit - --y y 0<&-')
    assert proc.returncode == 2
    assert proc.stderr == ("error: Standard input is closed, so there is no data to read from '-'. Pass a file path, "
                           "or pipe the data in (... | python -m linreg_core fit - --y COL).\n")


def test_closed_stdout_is_one_sentence(tutorial_csv):
    proc = _shell(f'"$PY" -m linreg_core fit {tutorial_csv} --y y --device cpu 1>&-')
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: Standard output is closed, so the results have nowhere to go.")
    assert len(proc.stderr.splitlines()) == 1


@LINUX_PROC
@pytest.mark.parametrize("loaded", ["_multiarray_umath", "libtorch"], ids=["numpy-pandas", "torch"])
def test_ctrl_c_while_importing_prints_one_line(loaded):
    # numpy and pandas load before the data is read: stdin stays open and empty, so Ctrl-C lands while the command
    # imports or waits for data. torch loads only once gradient descent is to run, after the data and the exact
    # fit: the data comes and stdin closes, and Ctrl-C lands while torch is still loading (its training-time
    # handler is installed after that import).
    proc = _spawn("fit", "-", "--y", "y", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if loaded == "libtorch":
        proc.stdin.write("x,y\n1,2\n2,4\n3,6.1\n3.5,7\n")
        proc.stdin.close()
        proc.stdin = None  # closed: communicate() must not write to it
    _until(proc, lambda: loaded in _maps(proc))
    _assert_interrupted(proc)


@LINUX_PROC
def test_ctrl_c_while_loading_prints_one_line():
    proc = _spawn("fit", "-", "--y", "y", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The write returns once the command has read all but a pipe buffer of it: it is then mid-load,
    # waiting for the rest (stdin stays open).
    proc.stdin.write("x,y\n" + "1.5,2.5\n" * 500_000)
    proc.stdin.flush()
    _assert_interrupted(proc)


@LINUX_PROC
@pytest.mark.parametrize("extra", [[], ["--out-of-core"]], ids=["in-memory", "out-of-core"])
def test_ctrl_c_while_waiting_for_a_pipe_writer_prints_one_line(tmp_path, extra):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    proc = _spawn("fit", str(fifo), "--y", "y", *extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # it has the pipe open and waits for data (or, as before the fix, it is stuck in open() itself)
    _until(proc, lambda: _has_open(proc, fifo) or _wchan(proc) == "wait_for_partner")
    _assert_interrupted(proc)


def _write_later(path: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(path, "wb") as fh:  # blocks until the command opens the pipe
            fh.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_pipe_without_writer_stops_waiting_with_a_message(tmp_path, monkeypatch, capsys):
    import linreg_core._csv_input as data

    monkeypatch.setattr(data, "_PIPE_WAIT_S", 0.2)
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    for extra in ([], ["--out-of-core"]):
        code, out, err = run_cli(["fit", str(fifo), "--y", "y", *extra], capsys)
        assert code == 2 and out == ""
        assert err == (f"error: Nothing was written to the pipe {str(fifo)!r} in 0.2 s. Start the program that "
                       "writes the data to it first, or pass a regular file.\n")


@pytest.mark.parametrize("extra", [[], ["--out-of-core", "--chunk-rows", "2"]], ids=["in-memory", "out-of-core"])
def test_pipe_with_writer_is_read_once(tmp_path, capsys, extra):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    writer = _write_later(fifo, b"x;y\n1;3\n2;5\n3;7,5\n4;9\n")
    code, out, err = run_cli(["fit", str(fifo), "--y", "y", "--method", "exact", "--json", *extra], capsys)
    writer.join()
    assert (code, err) == (0, "")
    obj = json.loads(out)
    assert obj["n_samples"] == 4
    assert obj["coef"] == pytest.approx([2.05]) and obj["intercept"] == pytest.approx(1.0)  # 7,5 is 7.5


def test_out_of_core_reads_stdin(tutorial_csv):
    with open(tutorial_csv) as fh:
        proc = _module("fit", "-", "--y", "y", "--json", "--out-of-core", "--method", "exact", stdin=fh.read())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["coef"] == pytest.approx([2.0])


def test_csv_followed_by_a_sparse_hole_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "holey.csv"
    path.write_bytes(b"x,y\n1,2\n2,4\n3,7\n")
    os.truncate(path, 16 + 2**31)  # + 2 GB that cost no disk and read as NUL bytes
    # The child's own peak (VmHWM of its address space, written at exit): ru_maxrss would also count this pytest
    # process, whose memory the child inherits until exec (over 1 GB late in the full suite).
    peak = ("import atexit, runpy, sys\n"
            "atexit.register(lambda: sys.stderr.write('peak ' + open('/proc/self/status').read()"
            ".split('VmHWM:')[1].split()[0] + '\\n'))\n"
            "sys.argv[0] = 'linreg_core'\n"
            "runpy.run_module('linreg_core', run_name='__main__', alter_sys=True)\n")
    for extra in ([], ["--out-of-core"]):
        proc = subprocess.run([sys.executable, "-c", peak, "fit", str(path), "--y", "y", *extra],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2
        err, kib = proc.stderr.rsplit("peak ", 1)
        assert err == ("error: The file looks binary (it contains NUL bytes at byte 16), not CSV text. "
                       "Expected a text CSV file.\n")
        assert int(kib) * 1024 < 2**30  # the imports take a few hundred MB; the 2 GB are never read


def test_out_of_memory_is_a_sentence(tutorial_csv, monkeypatch, capsys):
    from linreg_core import _cli

    def fail(_args):
        raise MemoryError

    monkeypatch.setattr(_cli, "_fit", fail)
    code, _, err = run_cli(["fit", tutorial_csv, "--y", "y"], capsys)
    assert code == 2
    assert err.startswith("error: Ran out of memory. Stream a big file with --out-of-core")


def test_file_too_big_for_free_memory_points_to_out_of_core(tutorial_csv, monkeypatch, capsys):
    import linreg_core._csv_input as data

    monkeypatch.setattr(data, "_available_memory", lambda: 100)
    code, _, err = run_cli(["fit", tutorial_csv, "--y", "y"], capsys)
    assert code == 2
    assert err.startswith(f"error: The file {tutorial_csv!r} is 0.0 MB: loading it needs about 0.0 MB of memory "
                          "and only 0.0 MB is free. Stream it instead (python -m linreg_core fit FILE --out-of-core")
    code, out, _ = run_cli(["fit", tutorial_csv, "--y", "y", "--out-of-core", "--method", "exact", "--json"], capsys)
    assert code == 0 and json.loads(out)["n_samples"] == 4


def test_huge_cells_and_names_give_short_error_lines(tmp_path, capsys):
    cell = "v" * 50_000
    path = tmp_path / "wide.csv"
    path.write_text(f"x,y\n1,2\n{cell},3\n3,5\n")
    code, _, err = run_cli(["fit", str(path), "--y", "y", "--x", "x"], capsys)
    assert code == 2
    assert err == (f"error: Column 'x' has a non-numeric value '{'v' * 60}'… (50,000 characters) at row 2. "
                   "Expected numbers only; fix or remove that row (1 such cell(s) in this column).\n")
    # a message from elsewhere in the library that quotes a 50,000-character name three times is cut as a last resort
    a = "a" * 50_000
    path.write_text(f"{a},y\n1,1\n2,3\n1,4\n2,6\n")
    code, _, err = run_cli(["fit", str(path), "--y", "y", "--degree", "3", "--method", "exact"], capsys)
    assert code == 2 and err.startswith("error: The design is rank deficient")
    assert err.endswith("… (message cut at 1,000 characters)\n") and len(err) < 1100


def test_package_import_is_lazy_and_exports_everything():
    code = ("import sys, linreg_core as m; heavy = {'numpy', 'pandas', 'torch'} & set(sys.modules); "
            "missing = [n for n in m.__all__ if getattr(m, n, None) is None]; print(sorted(heavy), missing)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[] []", proc.stderr


@pytest.mark.parametrize("cov", ["nonrobust", "HC3"])
def test_cov_and_the_json_summary_match_statsmodels_on_stackloss(tmp_path, capsys, cov):
    import statsmodels.api as sm
    from statsmodels.datasets import stackloss

    df = stackloss.load_pandas().data
    path = tmp_path / "stackloss.csv"
    df.to_csv(path, index=False)
    code, out, _ = run_cli(["fit", str(path), "--y", "STACKLOSS", "--method", "exact", "--cov", cov, "--json"], capsys)
    assert code == 0
    summary = json.loads(out)["summary"]
    ref = sm.OLS(df["STACKLOSS"], sm.add_constant(df[["AIRFLOW", "WATERTEMP", "ACIDCONC"]])).fit(cov_type=cov)
    assert summary["cov_type"] == cov
    for key, theirs in (("f_statistic", ref.fvalue), ("f_pvalue", ref.f_pvalue), ("llf", ref.llf), ("aic", ref.aic),
                        ("bic", ref.bic), ("condition_number", ref.condition_number)):
        assert summary[key] == pytest.approx(float(np.squeeze(theirs)), rel=1e-7), key
    stat = "t" if cov == "nonrobust" else "z"
    np.testing.assert_allclose([row["std_err"] for row in summary["table"]], ref.bse, rtol=1e-7)
    np.testing.assert_allclose([row[stat] for row in summary["table"]], ref.tvalues, rtol=1e-7)
    _, text, _ = run_cli(["fit", str(path), "--y", "STACKLOSS", "--method", "exact", "--cov", cov], capsys)
    assert f"P>|{stat}|" in text and "Durbin-Watson" in text and "Condition number" in text
    assert ("heteroskedasticity-robust" in text) == (cov != "nonrobust")


def test_a_robust_covariance_needs_the_rows_in_memory(tutorial_csv, capsys):
    code, _, err = run_cli(["fit", tutorial_csv, "--y", "y", "--out-of-core", "--cov", "HC1", "--method", "exact"], capsys)
    assert code == 2 and "--cov HC1 needs the rows in memory" in err and "Traceback" not in err


@pytest.fixture
def engel_csv(tmp_path) -> str:
    """Engel's food expenditure data (shipped with statsmodels): income in the thousands, so plain SGD at the default
    lr 0.01 diverges in epoch 2 (the issue's R² of −3.67e9)."""
    from statsmodels.datasets import engel

    path = tmp_path / "engel.csv"
    engel.load_pandas().data.to_csv(path, index=False)
    return str(path)


def test_a_diverged_run_exits_3_with_one_sentence_and_no_fit(engel_csv, tmp_path, capsys):
    model = tmp_path / "model.json"
    code, out, err = run_cli(["fit", engel_csv, "--formula", "foodexp ~ income", "--device", "cpu",
                              "--save-model", str(model)], capsys)
    assert code == 3
    assert [ln.split(",")[0] for ln in out.splitlines()] == ["epoch 1", "epoch 2"]  # the log, then no fit
    assert "Predictions" not in out and "Gradient descent:" not in out and "R²" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: gradient descent diverged in epoch 2")
    for flag in ("--method exact", "--standardize (then stable below lr ", "a smaller --lr (below 8.11e-07, the stable limit on this data)"):
        assert flag in lines[0]
    assert not model.exists()  # a diverged run is no model to predict with


def test_a_diverged_run_in_json_says_so_and_keeps_its_numbers_off_the_fit(engel_csv, capsys):
    code, out, err = run_cli(["fit", engel_csv, "--formula", "foodexp ~ income", "--device", "cpu", "--json"], capsys)
    assert code == 3 and len(err.strip().splitlines()) == 1
    obj = json.loads(out)
    assert obj["status"] == "diverged" and obj["epochs_run"] == 2
    assert obj["intercept"] is None and obj["coef"] is None and obj["metrics"] is None and obj["far_from_exact"] is None
    assert obj["advice"] in err and "--method exact" in obj["advice"]
    assert abs(obj["last_parameters"]["coef"][0]) > 1000  # where it blew up, named as such
    assert obj["exact"]["coef"] == pytest.approx([0.4851784236769231]) and obj["exact"]["metrics"]["r2"] > 0.8
    # The advice works: standardized, the same lr fits; exact least squares always does.
    code, out, _ = run_cli(["fit", engel_csv, "--formula", "foodexp ~ income", "--device", "cpu", "--json",
                            "--standardize", "--epochs", "500"], capsys)
    assert code == 0 and json.loads(out)["status"] == "completed"
    assert json.loads(out)["coef"] == pytest.approx([0.4851784236769231], rel=1e-3)
    code, out, _ = run_cli(["fit", engel_csv, "--formula", "foodexp ~ income", "--device", "cpu", "--json",
                            "--lr", "8e-07"], capsys)  # just under the quoted stable limit, 8.11e-07
    assert code == 0 and json.loads(out)["status"] == "completed"
    code, out, _ = run_cli(["fit", engel_csv, "--formula", "foodexp ~ income", "--method", "exact", "--json"], capsys)
    assert code == 0 and json.loads(out)["status"] == "exact"


def test_an_unknown_flag_points_at_the_commands_own_help(tutorial_csv, capsys, monkeypatch):
    with pytest.raises(SystemExit) as info:
        main(["fit", tutorial_csv, "--y", "y", "--bogus"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err == "error: unrecognized arguments: --bogus. Run 'python -m linreg_core fit --help' for usage.\n"
    monkeypatch.setattr(sys, "argv", [str(Path(sys.executable).with_name("linreg"))])  # the console script
    with pytest.raises(SystemExit):
        main(["predict", "m.json", "new.csv", "--bogus"])
    assert capsys.readouterr().err.endswith("Run 'linreg predict --help' for usage.\n")
    proc = _module("--bogus")  # the root's own errors: its help, named once
    assert proc.returncode == 2 and proc.stderr.endswith("Run 'python -m linreg_core --help' for usage.\n")


@pytest.mark.parametrize("args", [
    ["fit", "{csv}", "--y", "y", "--method", "exact"],
    ["fit", "{csv}", "--y", "y", "--method", "exact", "--json", "--out-of-core"],
    ["fit", "{csv}", "--formula", "y ~ x", "--method", "exact", "--save-model", "{model}"],
    ["predict", "{model}", "{csv}"],
    ["anova", "{csv}", "--formula", "y ~ x"],
    ["fit", "{csv}", "--formula", "y ~ I(9**9**9)"],
], ids=["exact-fit", "exact-out-of-core-json", "exact-fit-saved", "predict", "anova", "refused-formula"])
def test_nothing_but_training_imports_torch(tutorial_csv, tmp_path, args):
    """torch takes seconds to import: an exact fit, its statistics, a saved model's predictions and an ANOVA need
    none of it, and a hostile formula is refused before it."""
    model = tmp_path / "model.json"
    if args[0] == "predict":
        assert main(["fit", tutorial_csv, "--y", "y", "--method", "exact", "--save-model", str(model)]) == 0
    args = [a.format(csv=tutorial_csv, model=model) for a in args]
    probe = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: sys.stderr.write('torch imported: ' + str('torch' in sys.modules) + '\\n'))\n"
             "sys.argv[0] = 'linreg_core'\n"
             "runpy.run_module('linreg_core', run_name='__main__', alter_sys=True)\n")
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == (2 if "y ~ I(9**9**9)" in args else 0), proc.stderr
    assert proc.stderr.endswith("torch imported: False\n"), proc.stderr


def test_an_lr_beyond_float32_is_one_sentence_and_a_blow_up_names_the_epoch_the_trainer_saw(tutorial_csv, capsys):
    """lr 1e200 in float32 was an internal error inside torch's optimizer; in float64 the run diverges, and the
    sentence names the epoch whose loss was not finite (one more than the epochs with a recorded loss)."""
    code, _, err = run_cli(["fit", tutorial_csv, "--y", "y", "--lr", "1e200"], capsys)
    assert code == 2 and err == ("error: The 'lr' parameter must be a float > 0 and at most 3.403e+38 with float32 "
                                 "precision. Got 1e+200 instead.\n")
    code, out, err = run_cli(["fit", tutorial_csv, "--y", "y", "--lr", "1e200", "--dtype", "float64", "--json"], capsys)
    doc = json.loads(out)
    said = re.search(r"epoch (\d+)", doc["advice"]).group(1)
    assert code == 3 and doc["status"] == "diverged" and f"epoch {said}" in doc["reason"], (doc["advice"], doc["reason"])
    assert int(said) == len(doc["loss_history"]) + 1


def test_fit_json_lists_vif_and_each_row_s_influence_and_alpha_sets_the_intervals(tmp_path, capsys):
    import plotly.express as px
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import OLSInfluence

    tips = px.data.tips()
    path = tmp_path / "tips.csv"
    tips.to_csv(path, index=False)
    code, out, _ = run_cli(["fit", str(path), "--y", "tip", "--x", "total_bill", "--x", "size", "--method", "exact",
                            "--json", "--alpha", "0.1"], capsys)
    assert code == 0
    doc = json.loads(out)
    ref = sm.OLS(tips.tip, sm.add_constant(tips[["total_bill", "size"]])).fit()
    frame = OLSInfluence(ref).summary_frame()
    assert set(doc["influence"]) == {"hat_diag", "standard_resid", "student_resid", "cooks_d", "dffits"}
    np.testing.assert_allclose(doc["influence"]["dffits"], frame["dffits"], rtol=1e-8)
    assert set(doc["vif"]) == {"total_bill", "size"} and doc["vif"]["size"] > 1
    np.testing.assert_allclose([r["ci_low"] for r in doc["summary"]["table"]], ref.conf_int(0.1)[0], rtol=1e-9)
    assert doc["summary"]["alpha"] == 0.1
    code, out, _ = run_cli(["fit", str(path), "--y", "tip", "--x", "total_bill", "--method", "exact", "--alpha",
                            "0.1"], capsys)
    assert "[0.05" in out and "0.95]" in out
