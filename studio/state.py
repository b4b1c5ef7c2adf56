"""Session state: the current dataset, column choice, settings and runs, kept across pages and reruns.

The training settings are one record, ``settings`` (:class:`studio.settings.Settings`); the other choices live under
plain keys (``sel_``, ``ui_``, ``race_``…). No widget owns either: each widget gets a ``_w_`` twin through
:func:`bind` or :func:`bind_setting`. Streamlit drops a widget's state when its page is not shown, so the twin is
reloaded from the record or the plain key before every render and copied back on change (Streamlit's documented
pattern for keeping widget values across pages).
"""


from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
)

from . import fields, jobs, presets, workload
from . import settings as settings_
from .run import RunRecord, RunStatus
from .settings import Settings
from .text import md, md_list

DEFAULTS: dict[str, Any] = {  # the training settings are the Settings record's (studio/settings.py)
    "ui_live": True,
    "ui_pace": "watch",  # studio/pace.py: Watch, Fast or As fast as possible
    "ui_edit_points": False,  # Train: clicks on the fit chart add points, selections delete them
    "ui_residuals": False,  # Train: residuals drawn as vertical segments on the fit chart
    "sel_formula": "",  # Data: a typed Wilkinson formula; blank = the one the column pickers imply
    "sel_na": False,  # Data: leave out rows with a blank cell in the model's columns (else name the first)
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
    # step mode: epochs per "Step k" click
    "step_k": 10,
    # the Lessons page: which lesson (0-based)
    "lesson": 0,
    # Results: the coefficient table's standard errors (linreg_core.COV_TYPES)
    "res_cov": "nonrobust",
}
RACE_LANES = 6
RACE_TOLERANCES = [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10]

MAX_RUNS = 20  # runs kept per session (each holds its loss history)
# A 10,000-column file would otherwise preselect 9,999 features (and render 9,999 chips).
MAX_DEFAULT_FEATURES = 20
LR_STEPS = [round(m * 10.0**e, 12) for e in range(-6, 2) for m in (1, 2, 5)] + [100.0]


TORCH_THREADS = int(os.environ.get("LINREG_TORCH_THREADS", "1"))


@st.cache_resource(show_spinner=False)
def _warm_up() -> bool:
    """Once per server process.

    - Thread policy: every session trains in its own script thread, and torch's intra-op pool is shared
      by the whole process. One intra-op thread per training (LINREG_TORCH_THREADS to change it) keeps
      concurrent sessions from oversubscribing the cores, so one user cannot starve the rest.
    - The first torch.optim optimizer imports torch._dynamo (~2 s here): pay it at start-up, not on a
      user's first Train.
    - Then the ~430,000 objects the imports made (torch, pandas, SciPy, plotly's figure classes) are frozen
      out of the garbage collector's reach: each full collection walked them all, holding the GIL for 60–240 ms
      while every page, websocket and health check waited (docs/capacity.md). What sessions make later is
      collected as usual.
    """
    import gc

    import plotly.io as pio
    import torch

    from . import charts

    torch.set_num_threads(max(1, TORCH_THREADS))
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    pio.to_json(charts.go.Figure([{"type": t, "x": [0.0], "y": [0.0]} for t in ("scatter", "heatmap")]))
    gc.collect()
    gc.freeze()
    return True


def lr_slider_options(lr: float) -> list[float]:
    """The log slider's steps with ``lr`` among them: the slider and the typed box always show the same rate."""
    return sorted({*LR_STEPS, float(lr)})


def init() -> None:
    """Set defaults once per session and keep widget values alive across pages."""
    _warm_up()
    ss = st.session_state
    for k, v in DEFAULTS.items():
        ss.setdefault(k, v)
    ss.setdefault("settings", Settings())
    if "ds_df" not in ss:
        p = presets.PRESETS["tutorial"]
        set_dataset(presets.load_preset("tutorial"), p.name, p.target, list(p.features))
    ss.setdefault("run", None)
    ss.setdefault("runs", [])


def bind(name: str, on_change: Callable[[], None] | None = None) -> dict[str, Any]:
    """Widget kwargs (key, on_change) that keep ``st.session_state[name]`` as the persistent value.

    A number setting with a :class:`~studio.fields.Field` also gets its bounds and format, and a typed value
    is stored as the widget shows it (so what runs is what the sidebar shows).
    """
    ss = st.session_state
    wkey = "_w_" + name
    ss[wkey] = ss[name]
    spec = fields.field(name)

    def store() -> None:
        ss[name] = spec.snap(ss[wkey]) if spec is not None else ss[wkey]
        if on_change is not None:
            on_change()

    return {"key": wkey, "on_change": store, **(spec.widget() if spec is not None else {})}


def bind_setting(name: str, on_change: Callable[[], None] | None = None, widget: str | None = None) -> dict[str, Any]:
    """Widget kwargs (key, on_change, a number's bounds, help) that keep the setting ``name`` of the session's
    :class:`~studio.settings.Settings` as the persistent value. ``widget``: the widget's own name, when two widgets
    show one setting (the learning rate's slider and box); its key is ``_w_`` + that name."""
    ss = st.session_state
    wkey = "_w_" + (widget or name)
    ss[wkey] = getattr(ss.settings, name)
    spec = settings_.spec(name)

    def store() -> None:
        value = ss[wkey]
        setattr(ss.settings, name, spec.field.snap(value) if spec.field is not None else value)
        if on_change is not None:
            on_change()

    kwargs: dict[str, Any] = {"key": wkey, "on_change": store}
    if widget is None:  # the setting's own widget: its help and bounds (another view of it brings its own)
        kwargs.update(help=spec.help, **(spec.field.widget() if spec.field is not None else {}))
    return kwargs


def setting_widget(name: str, on_change: Callable[[], None] | None = None, **more: Any) -> None:
    """The widget of setting ``name`` as its :class:`~studio.settings.Spec` says: a toggle for on/off, a select box
    for a choice, a number box (a slider when its values sit on steps) for a number. ``more``: the widget's other
    arguments (the device's options, which the page knows)."""
    spec = settings_.spec(name)
    default = Settings.__dataclass_fields__[name].default
    kwargs = {**bind_setting(name, on_change), **more}
    if isinstance(default, bool):
        st.toggle(spec.label, **kwargs)
    elif spec.choices or "options" in more:
        names = spec.names or {}
        kwargs.setdefault("options", spec.choices)
        kwargs.setdefault("format_func", lambda v: names.get(v, v))
        st.selectbox(spec.label, **kwargs)
    elif spec.field is not None and spec.field.on_steps:
        st.slider(spec.label, **kwargs)
    else:
        st.number_input(spec.label, **kwargs)


def settings_group(group: str, after: str | None = None) -> None:
    """Every setting of ``group`` that is shown now, in the record's order (studio/settings.py); ``after``: only
    those that come after this one (the page drew the ones before it itself)."""
    current = st.session_state.settings
    names = settings_.in_group(group)
    for name in names[names.index(after) + 1:] if after else names:
        shown_if = settings_.spec(name).shown_if
        if shown_if is None or getattr(current, shown_if):
            setting_widget(name)


def set_dataset(df: pd.DataFrame, name: str, target: str | None = None, features: list[str] | None = None,
                keep_model: bool = False) -> None:
    """Make ``df`` the current dataset and pick sensible columns; clears the current run.

    ``keep_model`` keeps the polynomial degree and intercept choice (for edits of the same data).
    """
    ss = st.session_state
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


_TYPED_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _typed_number(value: Any, row: int, column: str) -> float:
    """A number typed into a cell of a numeric column (text: the grid's own number editor drops the 'e'
    of 1e5, so those columns are edited as text). Blank is a missing value; anything else is refused."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return float("nan")
        if not _TYPED_NUMBER.fullmatch(text):
            hint = " Use a dot as the decimal separator." if "," in text else ""
            raise DataError(f"Row {row}, column {md(column)}: {md(repr(text), 60)} is not a number.{hint} "
                            "The edit was not applied.")
        number = float(text)
    if not math.isfinite(number):
        raise DataError(f"Row {row}, column {md(column)}: {md(repr(str(value)), 60)} is beyond double precision "
                        "(about ±1.8e308). The edit was not applied.")
    return number


def _number_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    text = repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)
    return text[:-2] if text.endswith(".0") else text


def editable_table() -> pd.DataFrame:
    """The dataset as the Data page's editor shows it: numeric columns as text (cached per dataset version).

    The grid's own number editor drops the 'e' of a typed 1e5 and stores 15; as text, what is typed arrives
    whole and :func:`apply_editor_changes` parses it (or refuses it with a message).
    """
    ss = st.session_state
    cached = ss.get("_editor_table")
    if cached is None or cached[0] != ss.ds_version:
        df = ss.ds_df.copy()
        for col in numeric_columns(df):
            df[col] = [_number_text(v) for v in df[col].tolist()]
        cached = ss._editor_table = (ss.ds_version, df)
    return cached[1]


def apply_editor_changes(df: pd.DataFrame, changes: dict[str, Any]) -> pd.DataFrame:
    """Apply ``st.data_editor`` deltas (edited/added/deleted rows, positional) to ``df``.

    Cells of numeric columns must hold numbers (see :func:`_typed_number`): a bad one raises DataError and
    nothing is applied. Row numbers in messages are the table's, counted from 1.
    """
    out = df.copy()
    numeric = set(numeric_columns(df))

    def value(v: Any, row: int, col: str) -> Any:
        return _typed_number(v, row, col) if col in numeric else v

    for pos, cols in (changes.get("edited_rows") or {}).items():
        for col, val in cols.items():
            out.iloc[int(pos), out.columns.get_loc(col)] = value(val, int(pos) + 1, col)
    deleted = sorted(int(i) for i in changes.get("deleted_rows") or [])
    if deleted:
        out = out.drop(index=out.index[deleted])
    added = [r for r in (changes.get("added_rows") or []) if r]
    if added:
        first = len(out) + 1
        rows = [{c: value(v, first + i, c) for c, v in r.items()} for i, r in enumerate(added)]
        out = pd.concat([out, pd.DataFrame(rows, columns=list(out.columns))], ignore_index=True)
    for col in out.columns:  # keep numbers numeric after edits
        if col in numeric or out[col].dtype == object:
            conv = pd.to_numeric(out[col], errors="coerce")
            if conv.notna().sum() == out[col].notna().sum():
                out[col] = conv
    return out.reset_index(drop=True)


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
        for i in self.validation.extra["rows"]:
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
            typed_formula(), bool(ss.sel_na))


def load_server_dataset(name: str) -> None:
    """Make a dataset of the server's data folder current: a uniform sample of its rows in the session (for the
    charts and the table), the fit from every row on the cluster. Raises LinregError with a message."""
    from linreg_core import dask_sample

    from . import bigdata

    files = bigdata.files_of(name)
    with bigdata.names_not_paths():
        sample, total = dask_sample(files, bigdata.SAMPLE_ROWS, bigdata.client())
    set_dataset(sample, f"{name} — {total:,} rows on the server" + (
        f" (a uniform sample of {len(sample):,} shown)" if len(sample) < total else ""))
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
    design.extra["sample"] = rows_design(design, ss.ds_df)
    return design


def build_selected_design(degree: int | None = None) -> Design:
    """The design of the current choice: the typed formula, the pickers' formula (with categories) or columns."""
    ss = st.session_state
    na = "drop" if ss.sel_na else "error"
    formula = typed_formula() or picked_formula()
    if formula:
        return build_formula_design(ss.ds_df, formula, na=na)
    degree = degree_of(ss) if degree is None else degree
    return build_design(ss.ds_df, ss.sel_target, list(ss.sel_features), degree, bool(ss.sel_intercept), na=na)


def current_problem() -> Problem:
    """Build (or reuse) the design and exact fit; raises LinregError with a user-facing message."""
    ss = st.session_state
    key = selection_key()
    cached = ss.get("_problem")
    if cached is not None and cached[0] == key:
        if isinstance(cached[1], LinregError):
            raise cached[1]
        return cached[1]
    try:
        big = bool(ss.get("ds_server")) or len(ss.ds_df) >= workload.HEAVY_ROWS
        with heavy_work(big, "the exact fit of your data"):
            problem = _build_problem(key)
    except LinregError as exc:
        ss._problem = (key, exc)
        raise
    ss._problem = (key, problem)
    return problem


@contextmanager
def heavy_work(heavy: bool, what: str) -> Iterator[None]:
    """Do a block of work in a heavy slot if it is ``heavy`` (studio/workload.py), saying so on the page while
    it waits for one. ``what`` completes "Queued: 2 heavy jobs ahead of …"."""
    if not heavy:
        yield
        return
    client = workload.client_key()
    ahead = workload.GATE.ahead_of_new(client)  # its place in the fair order, not behind everyone queued
    note = st.empty()
    if ahead >= workload.GATE.slots:
        note.info(workload.queue_note(ahead, what), icon=":material/hourglass_top:")
    with workload.GATE.slot(what, client):
        note.empty()
        yield


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
    cache = st.session_state.setdefault("_guidance", {})
    key = (problem.key, standardize, l2)
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = lr_guidance(problem.design, standardize, l2)
    return cache[key]


PREVIEW_EPOCHS = 2000  # a preview shows at most this many epochs (10,000 epochs cost ~0.1 s)


def preview(problem: Problem, config: TrainConfig, epochs: int | None = None) -> Preview | None:
    """The path full-batch gradient descent will take with ``config`` on this problem (linreg_core.preview_path:
    exact, from the data's sufficient statistics), cached per problem and settings in the session; None for
    mini-batch runs and for data whose rows are not in memory."""
    n = min(int(epochs if epochs is not None else config.epochs), PREVIEW_EPOCHS)
    cache = st.session_state.setdefault("_previews", {})
    key = (problem.key, repr(config), n)
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        try:
            cache[key] = preview_path(problem.design, config, n) if problem.design.X is not None else None
        except LinregError:  # settings the trainer would refuse: Train says why
            cache[key] = None
    return cache[key]


def start_params(problem: Problem, config: TrainConfig, pv: Preview | None = None) -> tuple[float | None, list[float]]:
    """Where a run with ``config`` starts: the preview's first row, or the trainer's initial weights."""
    if pv is not None and len(pv.coefs):
        return (float(pv.intercepts[0]) if pv.intercepts is not None else None), [float(v) for v in pv.coefs[0]]
    cache = st.session_state.setdefault("_starts", {})
    key = (problem.key, config.seed, config.dtype, config.standardize)
    if key not in cache:
        try:
            cache[key] = initial_params(problem.design, config) if problem.design.X is not None else None
        except LinregError:
            cache[key] = None
    return cache[key]


def problem_or_stop(context: str) -> Problem:
    """The current problem, or the data's error with a link to the Data page, and the page stops there."""
    try:
        return current_problem()
    except LinregError as exc:
        st.error(f"The current data can't be {context}: {md(exc, 2000)}")
        st.page_link("app_pages/data.py", label="Fix the data or the column choice on the Data page",
                     icon=":material/table:")
        st.stop()


def train_config() -> TrainConfig:
    """What the next run trains with: the session's settings (studio/settings.py)."""
    return st.session_state.settings.to_config()


def new_run(problem: Problem, config: TrainConfig, start: TrainStart) -> RunRecord:
    """A run record at the trainer's starting point, current and first in the runs table; the training job
    fills it in place."""
    run = RunRecord(problem.key, config, st.session_state.ds_name, device=start.device,
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
    kept = design.extra.get("kept_rows")
    df = ss.ds_df if kept is None else ss.ds_df.iloc[kept].reset_index(drop=True)
    return df.loc[:, [c for c in [*design.features, design.target] if c in df.columns]]


def data_row_numbers(problem: Problem) -> np.ndarray:
    """Each fitted row's number in the dataset as the Data page counts it (1 = first data row), through a held-out
    split and rows left out for blank cells: one row-number convention everywhere."""
    idx = problem.design.extra.get("rows")  # a training split: positions in the full design
    idx = np.arange(problem.design.n_samples) if idx is None else np.asarray(idx)
    kept = (problem.full or problem.design).extra.get("kept_rows")
    return (idx if kept is None else np.asarray(kept)[idx]) + 1


def model_note(design: Design) -> str:
    """'y ~ x + x^2' (Markdown-escaped names), with '(no intercept)' when fitted through the origin."""
    terms = " + ".join(md(t) for t in design.terms)
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


MAX_SWEEP_DEGREE = 10
SWEEP_CLOSE = 0.02  # degrees whose validation MSE is within 2% of the lowest count as equally good
MAX_SWEEP_ROWS = 200_000


def degree_sweep(problem: Problem) -> pd.DataFrame | None:
    """Exact fits at degrees 1..10 on the same split: training and validation MSE per degree (the
    validation curve that shows under- and over-fitting). None without a split or with several features."""
    ss = st.session_state
    if (problem.validation is None or len(ss.sel_features) != 1 or len(ss.ds_df) > MAX_SWEEP_ROWS
            or problem.design.formula is not None):
        return None
    cache = ss.get("_sweep")
    if cache is not None and cache[0] == problem.key:
        return cache[1]
    rows = []
    for degree in range(1, MAX_SWEEP_DEGREE + 1):
        try:
            full = build_selected_design(degree)
            tr, va = train_val_split(full, *ss.settings.validation_split())
            ex = fit_exact_design(tr)
        except LinregError:
            break  # too few rows for this many terms: higher degrees cannot be fitted either
        rows.append({"degree": degree, "training MSE": validation_mse(tr, ex), "validation MSE": validation_mse(va, ex)})
    out = pd.DataFrame(rows) if len(rows) >= 2 else None  # one degree alone is no curve
    ss._sweep = (problem.key, out)
    return out


def sweep_verdict(sweep: pd.DataFrame) -> str:
    """One sentence on what the degree sweep shows, honest about near-ties (noise-level differences)."""
    val = sweep["validation MSE"].to_numpy()
    degrees = sweep["degree"].to_numpy()
    best = int(degrees[int(np.argmin(val))])
    simplest = int(degrees[int(np.argmax(val <= val.min() * (1 + SWEEP_CLOSE)))])
    text = f"the validation MSE is lowest at degree **{best}**"
    if simplest < best:
        text += f", and degree {simplest} comes within {SWEEP_CLOSE:.0%} of it with fewer terms"
    if simplest == 1:
        return text + ". A straight line already does about as well as any polynomial here: extra terms only fit noise."
    over = val[-1] > val.min() * (1 + SWEEP_CLOSE)
    return text + (". Lower degrees under-fit" + (", higher ones start fitting the noise (over-fit)." if over else "."))
