"""Session state: the current dataset, column choice, settings and runs, kept across pages and reruns.

The training settings are one record, ``settings`` (:class:`studio.settings.Settings`); the other choices live under
plain keys (``sel_``, ``ui_``, ``race_``…); widgets are bound to both by studio/controls.py.
"""


from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import (
    DataError,
    Design,
    ExactFit,
    FitStats,
    LinregError,
    LrGuidance,
    Preview,
    TrainConfig,
    TrainStart,
    build_design,
    build_formula_design,
    fit_exact_design,
    fit_stats,
    formula_term,
    implied_formula,
    initial_params,
    lr_guidance,
    numeric_columns,
    preview_path,
    train_val_split,
    with_weights,
)

from . import explain, guards, jobs, presets, workload
from .cache import derived, session_cached
from .run import RunRecord, RunStatus
from .settings import Settings
from .text import md, md_list

DEFAULTS: dict[str, Any] = {  # the training settings are the Settings record's (studio/settings.py)
    "ui_live": True,
    "ui_pace": "watch",  # studio/pace.py: Watch, Fast or As fast as possible
    "ui_edit_points": False,  # Train: clicks on the fit chart add points, selections delete them
    "ui_residuals": False,  # Train: residuals drawn as vertical segments on the fit chart
    "ui_welcomed": False,  # Train: the first-visit card was closed (or led to Lesson 1)
    "ui_present": False,  # Train: presentation mode, for a projector (studio/classroom.py)
    "ui_pinned": (),  # Train: the runs (their start times) whose loss curves are drawn beside the current one
    "sel_formula": "",  # Data: a typed Wilkinson formula; blank = the one the column pickers imply
    "sel_na": False,  # Data: leave out rows with a blank cell in the model's columns (else name the first)
    "sel_weights": "",  # Data: the column of case weights (weighted least squares); blank = ordinary least squares
    # the noisy-line generator on the Data page
    "gen_n": 100,
    "gen_slope": 2.0,
    "gen_intercept": 1.0,
    "gen_noise": 1.0,
    "gen_outliers": 0.0,
    "gen_seed": 0,
    "ui_logy": True,
    # optimizer race: lanes 0..MAX_LANES-1, of which race_n are used
    "race_n": 4,
    "race_epochs": 500,  # plain SGD at lr 0.01 needs 426 on the tutorial: every default lane finishes
    "race_tol": 1e-3,
    "race_watch": True,
    **{f"race_opt_{i}": o for i, o in enumerate(("sgd", "momentum", "adam", "rmsprop", "adagrad", "sgd"))},
    **{f"race_lr_{i}": lr for i, lr in enumerate((0.01, 0.01, 0.1, 0.01, 0.5, 0.05))},
    **{f"race_batch_{i}": 0 for i in range(6)},  # 0: full batch; a lane may run mini-batches on the same data
    # step mode: epochs per "Step k" click
    "step_k": 10,
    # the Lessons page: which lesson (0-based)
    "lesson": 0,
    # Results: the coefficient table's standard errors (linreg_core.COV_TYPES)
    "res_cov": "nonrobust",
    "res_anova": 1,  # Results: the ANOVA table's type (I, II, III)
    "res_test": "",  # Results: linear restrictions to F-test, e.g. "x1 = 0, x2 = x3"
    "res_groups": "",  # Results: the column naming each row's cluster, for cluster-robust standard errors
    "res_maxlags": None,  # Results: HAC lags; None = Newey and West's rule ⌊4 (n/100)^(2/9)⌋ for the data's n
}
RACE_LANES = 6
RACE_TOLERANCES = [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10]

MAX_RUNS = 20  # runs kept per session (each holds its loss history)
# A 10,000-column file would otherwise preselect 9,999 features (and render 9,999 chips).
MAX_DEFAULT_FEATURES = 20



def init() -> None:
    """Set defaults once per session and keep widget values alive across pages."""
    ss = st.session_state
    for k, v in DEFAULTS.items():
        ss.setdefault(k, v)
    ss.setdefault("settings", Settings())
    if "ds_df" not in ss:
        load_preset("tutorial")
    ss.setdefault("run", None)
    ss.setdefault("runs", [])


def load_preset(key: str) -> None:
    """Make preset ``key`` (studio/presets.py) the current dataset, with its own columns."""
    p = presets.PRESETS[key]
    set_dataset(presets.load_preset(key), p.name, p.target, list(p.features), source=("preset", key))


def set_dataset(df: pd.DataFrame, name: str, target: str | None = None, features: list[str] | None = None,
                keep_model: bool = False, source: tuple | None = None) -> None:
    """Make ``df`` the current dataset and pick sensible columns; clears the current run.

    ``keep_model`` keeps the polynomial degree and intercept choice (for edits of the same data). ``source``: how to
    make ``df`` again in a short link — ("preset", key) or ("gen", the generator's values) — or None (an upload, an
    edit: the link must carry the rows).
    """
    ss = st.session_state
    ss.ds_source = source
    jobs.job_slot().end(jobs.CHANGED)  # a run on the old data ends (paused or running)
    if not keep_model:
        ss.ds_server = None  # a dataset in the session: not a server dataset (studio/bigdata.py)
    df = df.reset_index(drop=True)
    ss.ds_df = df
    ss.ds_name = name
    ss.ds_version = ss.get("ds_version", 0) + 1
    numeric = numeric_columns(df)
    cols = [str(c) for c in df.columns]
    ids = [c for c in numeric if id_like(df, c)]
    notes = []
    if target is None or target not in cols:
        target, why = default_target(df, numeric, ids)
        if target is not None and target != "y":
            notes.append(f"Chose **{md(target)}** as the target ({why}); pick another above.")
    if features is None:
        features = [c for c in numeric if c != target and c not in ids][:MAX_DEFAULT_FEATURES]
        if ids:
            notes.append(f"Left out of the features: {md_list(ids[:8])} — integer codes named like IDs, not "
                         "quantities. Add one above if it really measures something.")
        text = [c for c in cols if c not in numeric]
        if text:
            notes.append(f"Text columns, left out of the features: {md_list(text[:8])}"
                         f"{' and more' if len(text) > 8 else ''} — add one above to use it as categories "
                         "(one coefficient per level against the first).")
        if ids:
            notes.append("An ID code can be a category too: type it as C(column) in the model formula below.")
    ss._column_note = " ".join(notes) if notes else None
    ss.sel_target = target
    ss.sel_features = [f for f in features if f in cols and f != target]
    if not keep_model:
        ss.sel_degree = 1
        ss.sel_intercept = True
        ss.sel_formula = ""
    if not keep_model or ss.get("sel_weights") not in cols:
        ss.sel_weights = ""
    ss.run = None


def id_like(df: pd.DataFrame, column: str) -> bool:
    """An integer column whose name says it names things rather than measures them: id, …_id, …_num, …_code.
    (Distinct consecutive integers alone are no sign: 1…200 square metres are a quantity.)"""
    s = df[column]
    if not pd.api.types.is_integer_dtype(s):
        return False
    name = str(column).lower()
    return name == "id" or name.endswith(("_id", "_num", "_code")) or name.startswith("id_")


def default_target(df: pd.DataFrame, numeric: list[str], ids: list[str]) -> tuple[str | None, str]:
    """(the column to predict when none was chosen, why): y if there is one, else the last decimal column, else
    the last numeric column that is not an ID code."""
    cols = [str(c) for c in df.columns]
    if "y" in cols:
        return "y", "it is called y"
    measured = [c for c in numeric if c not in ids]
    decimal = [c for c in measured if pd.api.types.is_float_dtype(df[c])]
    if decimal:
        return decimal[-1], "the last column with decimal values"
    if measured:
        return measured[-1], "the last numeric column"
    return (cols[-1] if cols else None), "the last column"


@dataclass(frozen=True)
class Problem:
    """The validated design for the current dataset and column choice, with its exact fit."""

    design: Design  # the training rows (all rows unless a validation split is on)
    exact: ExactFit  # on the training rows
    stats: FitStats
    key: tuple
    validation: Design | None = None  # the held-out rows, same terms
    full: Design | None = None  # every row, when a validation split is on

    def split_labels(self) -> list[str] | None:
        """"train" / "validation" for each row of the dataset, when a split is on."""
        if self.full is None:
            return None
        labels = ["train"] * self.full.n_samples
        for i in self.validation.rows:
            labels[int(i)] = "validation"
        return labels


def degree_of(ss: Any) -> int:
    """Polynomial degree in use: x, x², …, x^degree of each numeric feature (as the command line's --degree)."""
    return int(ss.sel_degree)


def typed_formula() -> str:
    """The formula typed in the Data page's advanced box ('' when the column pickers define the model)."""
    return str(st.session_state.get("sel_formula") or "").strip()


def picked_formula() -> str | None:
    """The formula the column pickers imply when a picked feature is text or boolean (a category); None when every
    feature is numeric (the column path, whose polynomial fit runs in a well-conditioned basis)."""
    ss = st.session_state
    numeric = set(numeric_columns(ss.ds_df))
    if all(f in numeric for f in ss.sel_features):
        return None
    terms = [f for f in ss.sel_features if f in numeric]
    text = [f for f in ss.sel_features if f not in numeric]
    body = implied_formula(ss.sel_target, terms, degree_of(ss), bool(ss.sel_intercept)) if terms else None
    cats = " + ".join(formula_term(c) for c in text)
    if body is None:
        return f"{formula_term(ss.sel_target)} ~ {cats}" + ("" if ss.sel_intercept else " - 1")
    lhs, rhs = body.split(" ~ ", 1)
    rhs, minus = (rhs[:-4], " - 1") if rhs.endswith(" - 1") else (rhs, "")
    return f"{lhs} ~ {rhs} + {cats}{minus}"


def selection_key() -> tuple:
    ss = st.session_state
    val = ss.settings.validation_split()
    return (ss.ds_version, ss.sel_target, tuple(ss.sel_features), int(ss.sel_degree), bool(ss.sel_intercept), val,
            typed_formula(), bool(ss.sel_na), ss.get("sel_weights", ""))


def load_server_dataset(name: str) -> None:
    """Make a dataset of the server's data folder current: a uniform sample of its rows in the session (for the
    charts and the table), the fit from every row on the cluster. Raises LinregError with a message."""
    from linreg_core import dask_sample

    from . import bigdata

    files = bigdata.files_of(name)
    with bigdata.names_not_paths():
        sample, total = dask_sample(files, bigdata.SAMPLE_ROWS, bigdata.client())
    set_dataset(sample, f"{name} — {total:,} rows on the server" + (
        f" (a uniform sample of {len(sample):,} shown)" if len(sample) < total else ""), source=("server", name))
    ss = st.session_state
    ss.ds_server, ss.ds_server_rows = name, total


def _server_design() -> Design:
    """The current choice fitted over every row of the server dataset, with its sample's rows attached for drawing."""
    from linreg_core import dask_design
    from linreg_core._sources import rows_design

    from . import bigdata

    ss = st.session_state
    if ss.settings.validation:
        raise DataError("A validation split needs the rows in this session; a server dataset's rows stay on the "
                        "cluster. Turn the split off (Train → Validation and model).")
    formula = typed_formula() or picked_formula()
    with bigdata.names_not_paths():
        design = dask_design(bigdata.files_of(ss.ds_server), ss.sel_target, list(ss.sel_features), degree_of(ss),
                             bool(ss.sel_intercept), formula=formula, na="drop" if ss.sel_na else "error",
                             client=bigdata.client())
    derived(design, "sample", lambda: rows_design(design, ss.ds_df))  # the rows the charts draw
    return design


def build_selected_design(degree: int | None = None) -> Design:
    """The design of the current choice: the typed formula, the pickers' formula (with categories) or columns."""
    ss = st.session_state
    na = "drop" if ss.sel_na else "error"
    formula = typed_formula() or picked_formula()
    if formula:
        design = build_formula_design(ss.ds_df, formula, na=na)
    else:
        degree = degree_of(ss) if degree is None else degree
        design = build_design(ss.ds_df, ss.sel_target, list(ss.sel_features), degree, bool(ss.sel_intercept), na=na)
    weights = ss.get("sel_weights", "")
    return with_weights(design, ss.ds_df, weights) if weights else design


def current_problem(trainable: bool = False) -> Problem:
    """Build (or reuse) the design and exact fit; raises LinregError with a user-facing message. ``trainable``: also
    refuse a model that gradient descent cannot meet the exact fit on: aliased terms (no single answer) or weights
    (a different objective)."""
    ss = st.session_state
    key = selection_key()
    cached = ss.get("_problem")
    if cached is not None and cached[0] == key:
        if isinstance(cached[1], LinregError):
            raise cached[1]
        if trainable:
            guards.refuse_untrainable(cached[1])
        return cached[1]
    try:
        big = bool(ss.get("ds_server")) or len(ss.ds_df) >= workload.HEAVY_ROWS
        with workload.heavy_work(big, "the exact fit of your data"):
            problem = _build_problem(key)
    except LinregError as exc:
        ss._problem = (key, exc)
        raise
    ss._problem = (key, problem)
    if trainable:
        guards.refuse_untrainable(problem)
    return problem


def _build_problem(key: tuple) -> Problem:
    ss = st.session_state
    design = _server_design() if ss.get("ds_server") else build_selected_design()
    validation = full = None
    split = ss.settings.validation_split()
    if split is not None:
        full = design
        design, validation = train_val_split(full, *split)
    exact = fit_exact_design(design)  # a polynomial is solved in a well-conditioned basis
    return Problem(design, exact, fit_stats(design, exact), key, validation, full)


def guidance(problem: Problem, standardize: bool, l2: float) -> LrGuidance:
    """lr_guidance for the current problem, cached per (problem, scaling, l2) in the session."""
    return session_cached("_guidance", (problem.key, standardize, l2),
                          lambda: lr_guidance(problem.design, standardize, l2), keep=16)


PREVIEW_EPOCHS = 2000  # a preview shows at most this many epochs (10,000 epochs cost ~0.1 s)


def preview(problem: Problem, config: TrainConfig, epochs: int | None = None) -> Preview | None:
    """The path full-batch gradient descent will take with ``config`` on this problem (linreg_core.preview_path:
    exact, from the data's sufficient statistics), cached per problem and settings in the session; None for
    mini-batch runs and for data whose rows are not in memory."""
    n = min(int(epochs if epochs is not None else config.epochs), PREVIEW_EPOCHS)
    def make() -> Preview | None:
        try:
            return preview_path(problem.design, config, n) if problem.design.X is not None else None
        except LinregError:  # settings the trainer would refuse: Train says why
            return None

    return session_cached("_previews", (problem.key, repr(config), n), make, keep=32)


def start_params(problem: Problem, config: TrainConfig, pv: Preview | None = None) -> tuple[float | None, list[float]]:
    """Where a run with ``config`` starts: the preview's first row, or the trainer's initial weights."""
    if pv is not None and len(pv.coefs):
        return (float(pv.intercepts[0]) if pv.intercepts is not None else None), [float(v) for v in pv.coefs[0]]
    def make() -> tuple[float | None, list[float]] | None:
        try:
            return initial_params(problem.design, config) if problem.design.X is not None else None
        except LinregError:
            return None

    return session_cached("_starts", (problem.key, config.seed, config.dtype, config.standardize), make, keep=8)


def problem_or_stop(context: str, trainable: bool = True) -> Problem:
    """The current problem, or the data's error with a link to the Data page, and the page stops there.
    ``trainable``: see :func:`current_problem`."""
    try:
        return current_problem(trainable)
    except LinregError as exc:
        st.error(f"The current data can't be {context}: {md(explain.app_words(str(exc)), 2000)}")
        st.page_link("app_pages/data.py", label="Fix the data or the column choice on the Data page",
                     icon=":material/table:")
        st.stop()


def train_config() -> TrainConfig:
    """What the next run trains with: the session's settings (studio/settings.py)."""
    return st.session_state.settings.to_config()


def new_run(problem: Problem, config: TrainConfig, start: TrainStart) -> RunRecord:
    """A run record at the trainer's starting point, current and first in the runs table; the training job
    fills it in place."""
    run = RunRecord(problem.key, config, st.session_state.ds_name, terms=tuple(problem.design.terms), device=start.device,
                    intercept=start.initial_intercept, coef=list(start.initial_coef), pace=st.session_state.ui_pace)
    run.snapshots.append((0, start.initial_intercept, tuple(start.initial_coef)))
    run.snapshot_t.append(time.monotonic())
    st.session_state.run = run
    runs = st.session_state.runs
    runs.append(run)  # the same record: the runs table sees stopped and diverged runs as they end
    del runs[:-MAX_RUNS]
    return run


def runs_table(problem: Problem | None) -> pd.DataFrame:
    """This session's runs, newest first: settings, outcome, final loss and the gap to the exact fit."""
    rows = []
    for i, run in enumerate(st.session_state.runs, start=1):
        cfg = run.config
        same = problem is not None and run.key == problem.key and run.has_model
        rows.append({
            "run": i, "dataset": run.dataset, "optimizer": cfg.optimizer, "lr": cfg.lr, "epochs": cfg.epochs,
            "batch": cfg.batch_size or "full", "standardize": cfg.standardize, "status": run.status,
            "epochs run": run.epochs_run, "final loss": run.final_loss,
            "validation loss": run.val_history[-1] if run.val_history else None,
            "gap to exact": gap(run.params, problem.exact) if same else None, "seconds": run.train_seconds,
        })
    df = pd.DataFrame(rows[::-1])
    # A column no run has a value in (no validation split, other data) says nothing: leave it out, not "None".
    return df.dropna(axis=1, how="all") if len(df) else df


def reopen_settings(index: int) -> None:
    """Put run ``index``'s (1-based) settings back into the sidebar."""
    ss = st.session_state
    ss.settings = ss.settings.with_config(ss.runs[index - 1].config)


def leave_pages(on_train_page: bool) -> None:
    """At the start of a script run: a race still running was interrupted (races run in the script), and a
    training job goes on only while the Train page is shown (leaving pauses it: Resume on return)."""
    if not on_train_page:
        jobs.job_slot().pause(jobs.LEFT)
    stop_race("interrupted")


def stop_race(why: str = "by you") -> None:
    """Mark a running race stopped (its loop checks the record each round and ends); the curves stay.
    ``why``: "by you" (the Stop button) or "interrupted" (a page switch or new input)."""
    rec = st.session_state.get("race")
    if rec and rec.running:
        with rec.lock:
            rec.status, rec.stopped_why = RunStatus.STOPPED, why
            for lane in rec.lanes:
                if lane.status == RunStatus.RUNNING:
                    lane.status = RunStatus.STOPPED


def run_matches(problem: Problem) -> bool:
    """The current run trained on this problem (same data and columns) and has a model to show."""
    run = st.session_state.get("run")
    return run is not None and run.key == problem.key and run.has_model


def gap(params: tuple[float | None, Any], exact: ExactFit) -> float:
    """Largest absolute difference between (intercept, coef) and the exact parameters."""
    b, w = params
    gd = np.asarray(([b] if exact.intercept is not None else []) + list(w), dtype=np.float64)
    return float(np.max(np.abs(gd - exact.params)))


def used_rows(problem: Problem) -> pd.DataFrame:
    """The dataset's rows the model uses (rows left out for blank cells removed), in its columns (target last)."""
    ss = st.session_state
    design = problem.full or problem.design
    kept = design.kept_rows
    df = ss.ds_df if kept is None else ss.ds_df.iloc[kept].reset_index(drop=True)
    return df.loc[:, [c for c in [*design.features, design.target] if c in df.columns]]


def data_row_numbers(problem: Problem) -> np.ndarray:
    """Each fitted row's number in the dataset as the Data page counts it (1 = first data row), through a held-out
    split and rows left out for blank cells: one row-number convention everywhere."""
    idx = problem.design.rows  # a training split: positions in the full design
    idx = np.arange(problem.design.n_samples) if idx is None else np.asarray(idx)
    kept = (problem.full or problem.design).kept_rows
    return (idx if kept is None else np.asarray(kept)[idx]) + 1


def model_note(design: Design) -> str:
    """'y ~ x + x^2' (Markdown-escaped names), with '(no intercept)' when fitted through the origin."""
    terms = " + ".join(md(t) for t in design.terms) or "1 (the mean alone)"  # y ~ 1, the null model
    return f"{md(design.target)} ~ {terms}" + ("" if design.fit_intercept else " (no intercept)")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def rows_note(problem: Problem) -> str:
    """'4 rows', or '24 training rows + 6 validation rows' when a split is on."""
    if problem.validation is None:
        return plural(problem.design.n_samples, "row")
    return f"{plural(problem.design.n_samples, 'training row')} + {plural(problem.validation.n_samples, 'validation row')}"


def validation_mse(design: Design, params: tuple[float | None, Any] | ExactFit) -> float:
    """MSE on ``design``'s rows of (intercept, coef) — or of an exact fit, evaluated in its own basis."""
    if isinstance(params, ExactFit):
        pred = params.predict(design.X)
    else:
        b, w = params
        pred = design.X @ np.asarray(w, dtype=np.float64) + (b or 0.0)
    return float(np.mean((design.y - pred) ** 2))
