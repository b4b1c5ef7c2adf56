"""Command line: ``python -m linreg_core fit DATA.csv|- --y COL ...`` (or ``--formula``) and ``predict MODEL.json NEW.csv``.

Errors are one line on stderr with exit code 2; never a traceback. A gradient-descent run that diverges is one
line too, with what to try, and exit code 3 (EXIT_DIVERGED). Ctrl-C at any point prints
"interrupted" and exits 130; a reader that stops early (``| head``) ends the command quietly.

This module imports only the standard library at load time; numpy, pandas and torch are imported inside
``main``, where Ctrl-C is handled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from . import _cli_anova
from ._config import OPTIMIZERS
from .errors import LinregError, ParameterError

if TYPE_CHECKING:

    pass

__all__ = ["main", "run"]

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3  # gradient descent blew up: no fit to report (the exact one is in --json's "exact")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
MAX_JSON_INFLUENCE_ROWS = 100_000  # --json lists each row's influence measures up to this many rows
_MAX_ERROR_CHARS = 1000  # last resort: the library already cuts the user values it quotes


class _Parser(argparse.ArgumentParser):
    commands: dict[str, argparse.ArgumentParser]  # the root's subcommand parsers, by name

    def error(self, message: str) -> NoReturn:
        # self.prog is the whole command as typed: "python -m linreg_core fit", or "linreg fit" for the console script
        self.exit(EXIT_BAD_INPUT, f"error: {message}. Run '{self.prog} --help' for usage.\n")


def _program() -> str:
    """How the user started the command: the ``linreg`` console script, or ``python -m linreg_core``."""
    return "linreg" if os.path.splitext(os.path.basename(sys.argv[0] or ""))[0] == "linreg" else "python -m linreg_core"


def _parser() -> _Parser:
    root = _Parser(prog=_program(), description="Linear regression by gradient descent (PyTorch) and exact least squares.")
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    root.commands = sub.choices
    p = sub.add_parser("fit", help="fit a linear model to a CSV file", description="Fit TARGET ~ features from a CSV file.")
    p.add_argument("data", help="a CSV or Parquet file, a folder of them, a glob such as 'data/*.parquet' (quote it), "
                                "or - to read CSV from stdin")
    p.add_argument("--formula", metavar="'Y ~ TERMS'",
                   help="a Wilkinson formula instead of --y/--x/--degree, e.g. 'tip ~ total_bill + C(day) + "
                        "np.log(size)'; text columns are categories, '- 1' drops the intercept")
    p.add_argument("--y", metavar="COL", help="target column (or use --formula)")
    p.add_argument("--x", action="append", metavar="COL", help="feature column (repeat for several; default: every numeric column but the target)")
    p.add_argument("--degree", type=int, default=1, metavar="K", help="polynomial degree per feature: terms x, x^2, ..., x^K (default 1)")
    p.add_argument("--no-intercept", action="store_true", help="fit through the origin")
    p.add_argument("--method", choices=("gd", "exact"), default="gd", help="gradient descent (default) or exact least squares only")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--epochs", type=int, default=100, help="epochs (default 100)")
    p.add_argument("--batch-size", type=int, default=0, metavar="N", help="rows per step; 0 = full batch (default)")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=False, help="train on standardized features (coefficients reported in original units)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--init-weight", type=float, action="append", metavar="W", help="initial weight, one per term (repeat)")
    p.add_argument("--init-bias", type=float, metavar="B", help="initial bias")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum for --optimizer momentum (default 0.9)")
    p.add_argument("--l2", type=float, default=0.0, help="L2 penalty on the weights (default 0)")
    p.add_argument("--tol", type=float, default=None, help="stop as converged when the loss changes by less than this (relative)")
    p.add_argument("--engine", choices=("auto", "stats", "autograd"), default="auto",
                   help="full batch: sufficient statistics (auto) or the reference autograd loop")
    p.add_argument("--log-every", type=int, default=1, metavar="K", help="print every K-th epoch (default 1)")
    p.add_argument("--cov", choices=("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC"), default="nonrobust",
                   help="standard errors of the exact fit: classical (default), heteroskedasticity-robust HC0-HC3, "
                        "cluster-robust by --groups COL, or HAC (Newey-West) with --maxlags K, as statsmodels")
    p.add_argument("--test", metavar="'R'",
                   help="F test of linear restrictions on the coefficients, as statsmodels' res.f_test: e.g. "
                        "--test 'x1 = 0, x2 = x3' (the terms as the summary names them; uses --cov)")
    p.add_argument("--summary-format", choices=("text", "html", "latex", "markdown"),
                   help="print the exact fit's summary as one document in this format (as statsmodels' "
                        "res.summary()), instead of the log and tables")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="1 - the confidence intervals' level in the summary (default 0.05: 95%%)")
    p.add_argument("--groups", metavar="COL", help="with --cov cluster: the column that names each row's cluster")
    p.add_argument("--maxlags", type=int, metavar="K", help="with --cov HAC: the number of lags (rows in time order)")
    p.add_argument("--weights", metavar="COL",
                   help="weighted least squares, as statsmodels' WLS(weights=COL) and R's lm(weights=): each row's "
                        "squared residual counts COL times (positive numbers; exact fit only)")
    p.add_argument("--na", choices=("error", "drop"), default="error",
                   help="rows with a blank cell in the model's columns: name the first (error, default) or leave them "
                        "out and say how many (drop)")
    p.add_argument("--dates", choices=("error", "days"), default="error",
                   help="date columns in a --formula: refuse (default) or use days since 1970-01-01")
    p.add_argument("--save-model", metavar="FILE",
                   help="write the fitted model as JSON (formula, levels, coefficients, covariance) for 'predict'")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the log and summary")
    p.add_argument("--out-of-core", action="store_true",
                   help="stream the file in chunks and keep only its sufficient statistics (files larger than memory; "
                        "exact fit and full-batch training)")
    p.add_argument("--chunk-rows", type=int, default=500_000, metavar="N", help="rows per chunk with --out-of-core")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="where the data is reduced: this process (local, default) or a Dask cluster (dask: each file "
                        "a partition, their R factors combined in a tree; full-batch training only)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --backend dask: a running scheduler, e.g. tcp://10.0.0.5:8786 (default: a local "
                        "cluster of 2 worker processes started for the run)")
    _cli_anova.add_parser(sub)
    q = sub.add_parser("predict", help="predict new rows with a saved model",
                       description="Predict the rows of NEW.csv with MODEL.json (from 'fit --save-model' or the app's "
                                   "Results page); CSV on stdout: prediction, and lower, upper with --interval.")
    q.add_argument("model", help="model JSON file")
    q.add_argument("data", help="CSV file of new rows (the model's columns; others are ignored), or - for stdin")
    q.add_argument("--interval", choices=("confidence", "prediction"),
                   help="add lower and upper bounds: of the mean (confidence) or of a new observation (prediction)")
    q.add_argument("--alpha", type=float, default=0.05, help="1 - the interval's level (default 0.05: 95%%)")
    return root


def _fit(args: argparse.Namespace) -> int:
    # Imported here, inside main's Ctrl-C handling; torch (~2 s) only once gradient descent runs, so that an exact
    # fit, and any refusal of the data or the formula, comes without waiting for it.
    from ._config import TrainConfig
    from ._export import json_safe
    from ._report import _diverged_advice, _far_note, _metrics, _printer, _summary
    from ._solver import fit_exact_design
    from ._stats import fit_stats
    from ._stream import load_design, stream_design
    from ._summary import fit_summary

    if args.log_every < 1:
        raise ParameterError(f"The 'log_every' parameter must be an int >= 1. Got {args.log_every} instead.")
    if args.formula is not None:
        given = [o for o, v in (("--y", args.y), ("--x", args.x), ("--degree", args.degree != 1),
                                ("--no-intercept", args.no_intercept)) if v]
        if given:
            raise ParameterError(f"--formula replaces {', '.join(given)}: give the model one way. "
                                 "E.g. --formula 'y ~ x + I(x**2) - 1'.")
    elif args.y is None:
        raise ParameterError("Name the model: --y COL (with --x COL ...) or --formula 'y ~ x1 + x2'.")
    if (args.cov == "cluster") != (args.groups is not None):
        raise ParameterError("--cov cluster and --groups COL go together: give both (e.g. --cov cluster --groups firm) "
                             "or neither.")
    if (args.cov == "HAC") != (args.maxlags is not None):
        raise ParameterError("--cov HAC and --maxlags K go together: give both (e.g. --cov HAC --maxlags 4) or neither.")
    if args.maxlags is not None and args.maxlags < 0:
        raise ParameterError(f"The 'maxlags' parameter must be an int >= 0. Got {args.maxlags} instead.")
    table_columns = [c for c in (args.weights, args.groups) if c is not None]  # read beside the model's columns
    if table_columns:
        if args.method == "gd" and args.weights is not None:
            raise ParameterError("--weights fits by weighted least squares, which the exact solver does; gradient "
                                 "descent here minimises the plain mean squared error. Add --method exact.")
        if args.out_of_core or args.backend == "dask":
            raise ParameterError("--weights and --groups need the rows in memory; drop --out-of-core / --backend dask.")
    if args.scheduler and args.backend != "dask":
        raise ParameterError("--scheduler is for --backend dask; add --backend dask or leave --scheduler out.")
    if args.backend == "dask":
        if args.method == "gd" and args.batch_size:
            raise ParameterError("--backend dask trains full batch from the data's R factor; mini-batch training over "
                                 "a cluster is not supported. Use --batch-size 0, or --backend local.")
        if args.out_of_core:
            raise ParameterError("--out-of-core is the one-machine streaming path; --backend dask streams already. "
                                 "Give one of them.")
    from ._sources import resolve_sources

    files = resolve_sources(args.data)
    several = len(files) > 1 or any(f.lower().endswith((".parquet", ".pq")) for f in files)
    if args.backend == "dask":
        from ._dask import dask_design

        design = dask_design(args.data, args.y, args.x, args.degree, not args.no_intercept, formula=args.formula,
                             na=args.na, scheduler=args.scheduler, progress=not args.json)
    elif several and args.out_of_core:
        from ._sources import SourceSpec, formula_levels, formula_template, stream_sources

        if args.formula is not None:  # the category levels of every file first, then each file's rows
            template = formula_template(files, args.formula, args.na, formula_levels(files, args.formula))
            spec = SourceSpec(template.target, None, 1, template.fit_intercept, args.na, template)
        else:
            spec = SourceSpec(args.y, args.x, args.degree, not args.no_intercept, args.na)
        design = stream_sources(files, spec)
    elif several and table_columns:
        raise ParameterError("--weights and --groups read one CSV file; combine the files into one first.")
    elif several:
        from ._sources import build_in_memory

        design = build_in_memory(files, args.y, args.x, args.degree, not args.no_intercept, args.formula, args.na,
                                 args.dates)
    elif args.out_of_core:
        if args.chunk_rows < 1:
            raise ParameterError(f"The 'chunk_rows' parameter must be an int >= 1. Got {args.chunk_rows} instead.")
        if args.formula is not None:
            from ._stream import stream_formula_design

            design = stream_formula_design(args.data, args.formula, args.na, args.chunk_rows)
        elif args.na != "error":
            raise ParameterError("--na drop needs the rows in memory; clean the file or drop --out-of-core.")
        else:
            design = stream_design(args.data, args.y, args.x, args.degree, not args.no_intercept, args.chunk_rows)
    elif args.formula is not None or table_columns:
        from ._csv import read_csv
        from ._design import build_design

        table = read_csv(args.data)
        if args.formula is not None:
            from ._formula import build_formula_design

            design = build_formula_design(table, args.formula, na=args.na, dates=args.dates)
        else:
            design = build_design(table, args.y, args.x, args.degree, not args.no_intercept, na=args.na)
    else:
        design = load_design(args.data, args.y, args.x, args.degree, not args.no_intercept, na=args.na)
    groups = None
    if table_columns:
        from ._design import cluster_groups, with_weights

        if args.weights is not None:
            design = with_weights(design, table, args.weights)
        if args.groups is not None:
            groups = cluster_groups(design, table, args.groups)
    dropped = design.dropped_rows
    if dropped and not args.json:
        print(f"Left out {dropped:,} row(s) with a blank cell in the model's columns (--na drop); "
              f"{design.n_samples:,} remain.", file=sys.stderr)
    exact = fit_exact_design(design)
    ex_stats = fit_stats(design, exact)
    if design.X is None and args.cov != "nonrobust":
        raise ParameterError(f"--cov {args.cov} needs the rows in memory (each row's residual and leverage); "
                             "load the file without --out-of-core.")
    summary = (fit_summary(design, exact, args.cov, groups=groups, maxlags=args.maxlags, alpha=args.alpha)
               if design.X is not None else None)
    if args.summary_format is not None:
        if args.json or args.test is not None:
            raise ParameterError("--summary-format prints the summary document alone; run --json or --test "
                                 "separately.")
        if summary is None:
            raise ParameterError("--summary-format needs the rows in memory (residual tests); drop --out-of-core.")
        from ._document import summary_document

        print(summary_document(design, exact, summary, args.summary_format))
        return 0
    tested = None
    if args.test is not None:
        if summary is None:
            raise ParameterError("--test needs the rows in memory (the covariance of the fit); drop --out-of-core.")
        from ._wald import f_test

        tested = f_test(summary, args.test)
    result = gd_stats = None
    if args.method == "gd":
        from ._trainer import train

        config = TrainConfig(
            optimizer=args.optimizer, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
            momentum=args.momentum, l2=args.l2, standardize=args.standardize, seed=args.seed,
            dtype=args.dtype, device=args.device, init_weight=args.init_weight, init_bias=args.init_bias,
            tol=args.tol, engine=args.engine,
        )
        stop = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C stops training, keeps the result
        try:
            result = train(design, config, [] if args.json else [_printer(args.log_every)], stop=stop)
        finally:
            signal.signal(signal.SIGINT, previous)
        gd_stats = fit_stats(design, exact, result.intercept, result.coef)
    far = _far_note(design, exact, ex_stats, result, gd_stats) if result is not None else None
    # A diverged run has no fit: its parameters are where it blew up. Nothing is saved or shown as a fit; the
    # command says what to try and exits EXIT_DIVERGED (--json still reports the exact fit under "exact").
    diverged = _diverged_advice(design, result) if result is not None and result.status == "diverged" else None
    if args.save_model and diverged is None:
        from ._export import model_json

        gd_doc = None if result is None else {"intercept": result.intercept, "coef": result.coef,
                                                "status": result.status}
        text = model_json(design, gd_doc, exact, ex_stats, summary)
        try:
            with open(args.save_model, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as e:
            raise ParameterError(f"Could not write the model to {args.save_model!r}: {e.strerror}.") from None
    if args.json:
        fitted = None if diverged else result if result is not None else exact
        out = {
            "method": args.method,
            "formula": design.model_formula,
            "target": design.target,
            "rows_dropped": dropped,
            "weights": args.weights,
            "far_from_exact": far,
            "terms": design.terms,
            "n_samples": design.n_samples,
            "intercept": fitted.intercept if fitted else None,
            "coef": fitted.coef if fitted else None,
            "loss_history": result.loss_history if result else [],
            "status": result.status if result else "exact",
            "reason": result.reason if result else None,
            "epochs_run": result.epochs_run if result else 0,
            "device": result.device if result else "cpu",
            "dtype": result.dtype if result else "float64",
            "train_seconds": result.train_seconds if result else 0.0,
            "engine": result.engine if result else None,
            "config": result.config.to_dict() if result else None,
            "exact": {
                "intercept": exact.intercept, "coef": exact.coef, "rank": exact.rank,
                "condition_number": exact.condition_number, "warnings": list(exact.warnings),
                "metrics": _metrics(ex_stats), "table": ex_stats.table(),
            },
            "metrics": None if diverged else _metrics(gd_stats if gd_stats is not None else ex_stats),
            "summary": None if summary is None else {
                **summary.as_dict(),
                **({"groups": args.groups, "n_groups": int(groups.max()) + 1} if groups is not None else {}),
                **({"maxlags": args.maxlags} if args.maxlags is not None else {}),
                "table": [{"name": n, "coef": c, "std_err": se, ("t" if summary.use_t else "z"): z, "p": pv,
                           "ci_low": lo, "ci_high": hi}
                          for n, c, se, z, pv, lo, hi in zip(summary.names, summary.params, summary.std_err,
                                                             summary.stat, summary.p_values, summary.ci_low,
                                                             summary.ci_high)],
            },
        }
        if tested is not None:
            out["test"] = tested.as_dict()
        if design.X is not None:
            from ._summary import variance_inflation

            out["vif"] = variance_inflation(design, exact)  # per term; null when aliased
        if design.X is not None and design.n_samples <= MAX_JSON_INFLUENCE_ROWS:
            from ._summary import fit_influence

            out["influence"] = fit_influence(design, exact).as_dict()  # of the exact fit, one value per row
        else:
            out["influence"] = None  # streamed, or too many rows to list (say so rather than print 10⁶ numbers ×5)
        if diverged:
            out["advice"] = diverged
            out["last_parameters"] = {"intercept": result.intercept, "coef": result.coef}  # not a fit: where it blew up
        print(json.dumps(json_safe(out), allow_nan=False))
    elif diverged is None:
        print(_summary(design, exact, ex_stats, result, gd_stats, summary))
        if tested is not None:
            print(f"\nTest of {tested.restrictions}: F({tested.df_num}, {tested.df_denom}) = {tested.F:.6g}, "
                  f"p = {tested.p:.4g}")
        if far:
            print(f"\nNote: {far}")
    if diverged:
        sys.stdout.flush()  # the log (or the JSON) first, then the sentence
        return _error(diverged, EXIT_DIVERGED)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from ._csv import read_csv
    from ._predict import load_model

    try:
        with open(args.model, "rb") as fh:
            text = fh.read()
    except OSError as e:
        raise ParameterError(f"Could not read the model file {args.model!r}: {e.strerror}.") from None
    model = load_model(text)
    out = model.predict(read_csv(args.data), args.interval, args.alpha)
    sys.stdout.write(out.to_csv(index=False, float_format="%.17g"))
    return 0


def run() -> NoReturn:
    """Run :func:`main` as the program (``python -m linreg_core``) and exit with its code."""
    code = main()
    if code == EXIT_INTERRUPTED:
        # Leave without the interpreter's shutdown: when Ctrl-C lands inside an exec() of a string (scipy runs
        # some while it imports), CPython marks it unhandled and at exit kills the process with SIGINT,
        # whatever code we return; and half-imported modules would tidy up noisily.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``linreg`` console script; returns the exit code."""
    global _presses
    _presses = 0
    try:
        previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    except ValueError:  # not the main thread: signals go elsewhere
        previous = None
    interrupted = False
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while importing, loading or fitting (training stops on its own and reports)
        interrupted = True
        return _interrupted()
    finally:
        if previous is not None and not interrupted:
            signal.signal(signal.SIGINT, previous)


_presses = 0  # Ctrl-C presses during this main()


def _on_ctrl_c(signum: int, frame: object) -> None:
    global _presses
    _presses += 1
    raise KeyboardInterrupt


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # an unknown flag: point at the help of the command it was given to, not the root's
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if sys.stdout is None:  # started with stdout closed (1>&-)
        return _error("Standard output is closed, so the results have nowhere to go. Run the command with its "
                      "output going to the terminal, a file or a pipe.")
    try:
        code = {"predict": _predict, "anova": _cli_anova.run}.get(args.command, _fit)(args)
        sys.stdout.flush()  # a reader that went away shows up here, not as a warning at interpreter exit
        return code
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        _discard_stdout()
        return 0
    except Exception as exc:
        if _presses:  # Ctrl-C that a library turned into another error (numpy's import: an ImportError)
            raise KeyboardInterrupt from None
        if isinstance(exc, LinregError):
            return _error(str(exc))
        if isinstance(exc, MemoryError):
            return _error("Ran out of memory. Stream a big file with --out-of-core, use fewer rows or a lower "
                          "--degree, or free some memory and try again.")
        if isinstance(exc, OSError):
            return _error(f"{exc.__class__.__name__}: {exc}")
        if os.environ.get("LINREG_DEBUG"):  # a bug of ours: still one line, never a traceback
            raise
        return _error(f"internal error ({exc.__class__.__name__}: {exc}). Please report it; "
                      "set LINREG_DEBUG=1 for details.", code=1)


def _error(message: str, code: int = EXIT_BAD_INPUT) -> int:
    line = " ".join(message.splitlines())
    if len(line) > _MAX_ERROR_CHARS:
        line = f"{line[:_MAX_ERROR_CHARS]}… (message cut at {_MAX_ERROR_CHARS:,} characters)"
    _say(f"error: {line}")
    return code


def _say(line: str) -> None:
    if sys.stderr is not None:  # print(file=None) would write to stdout
        try:
            print(line, file=sys.stderr)
        except (OSError, ValueError):
            pass


def _interrupted() -> int:
    # The program is ending: further Ctrl-C presses must not cut it short with a traceback.
    with contextlib.suppress(ValueError):  # (only the main thread may set signal handlers)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _say("interrupted")
    return EXIT_INTERRUPTED


def _discard_stdout() -> None:
    # Point stdout at devnull so that Python's flush at exit cannot fail again ("Note on SIGPIPE" in the
    # signal module's docs).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured by a test)
        pass
