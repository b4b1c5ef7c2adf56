"""Data: bring points in (preset, generator, CSV upload), edit them, choose the columns."""

import streamlit as st

from linreg_core import LinregError, NonFiniteError, drop_incomplete_rows, numeric_columns
from studio import bigdata, charts, controls, explain, guards, points, presets, state, table_edit, uploads
from studio.text import md

ss = st.session_state
EDITABLE_ROWS = 5000
EDITABLE_COLUMNS = 50


def _load_preset(key: str) -> None:
    state.load_preset(key)


def _generate() -> None:
    values = tuple(ss[k] for k in presets.GENERATOR)
    df, name = presets.generated(values)
    state.set_dataset(df, name, "y", ["x"], source=("gen", values))  # a share link carries the values, not the rows


def _editor_changed() -> None:
    key = f"editor_{ss.ds_version}"
    try:
        df = table_edit.apply_editor_changes(ss.ds_df, ss[key])
    except LinregError as exc:  # a cell that is not a number: refuse the edit, keep the table as it was
        ss._edit_msg = str(exc)
        ss.ds_version += 1  # a fresh editor shows the data as it still is
        return
    version = ss.ds_version
    name = ss.ds_name if ss.ds_name.endswith("(edited)") else f"{ss.ds_name} (edited)"
    state.set_dataset(df, name, ss.sel_target, ss.sel_features, keep_model=True)
    ss.pop(f"editor_{version}", None)


def _load_server() -> None:
    try:
        state.load_server_dataset(ss.server_pick)
    except LinregError as exc:
        ss._server_msg = ("error", f"Could not load **{md(ss.server_pick)}**: {md(exc, 2000)} The previous dataset "
                                   "is still loaded.")
    else:
        ss._server_msg = ("success", f"Loaded **{md(ss.server_pick)}**: {ss.ds_server_rows:,} rows on the server, "
                                     f"{len(ss.ds_df):,} sampled for the charts.")


def _drop_incomplete() -> None:
    cols = [ss.sel_target, *ss.sel_features]
    df, dropped = drop_incomplete_rows(ss.ds_df, cols)
    state.set_dataset(df, f"{ss.ds_name} ({dropped} incomplete rows dropped)", ss.sel_target, ss.sel_features,
                      keep_model=True)


upload_note = uploads.settle()  # a big CSV's read cut short by Stop, another click or leaving the page
st.title("Data", anchor=False)
st.caption(f"Current dataset: **{md(ss.ds_name)}** — {len(ss.ds_df):,} rows × {ss.ds_df.shape[1]} columns. "
           "It stays loaded as you move between pages.")
if upload_note:
    st.info(upload_note)

server_sets = bigdata.datasets()  # empty unless the server has a data folder (LINREG_DATA_DIR)
tabs = st.tabs(["Presets", "Upload CSV", "Noisy line generator", *(["Server data"] if bigdata.data_dir() else [])])
tab_preset, tab_upload, tab_gen = tabs[:3]
if bigdata.data_dir():
    with tabs[3]:
        st.caption("Datasets in this server's data folder, too big to send to a browser: the fit, statistics and "
                   f"training use every row on a Dask cluster; the charts and the table show a uniform random sample "
                   f"of at most {bigdata.SAMPLE_ROWS:,} rows.")
        if server_sets:
            s1, s2 = st.columns([3, 1])
            s1.selectbox("Dataset", server_sets, key="server_pick", label_visibility="collapsed")
            s2.button("Load", key="btn_server_load", on_click=_load_server, type="primary", width="stretch")
        else:
            st.info("The data folder has no .csv or .parquet files (or folders of them) yet.")
        if "_server_msg" in ss:
            kind, text = ss.pop("_server_msg")
            (st.error if kind == "error" else st.success)(text)
with tab_preset:
    for key, p in presets.PRESETS.items():  # each name whole, its description under it: no column to outgrow
        st.button(p.name, key=f"preset_{key}", on_click=_load_preset, args=(key,))
        st.caption(p.description)

with tab_upload:
    st.file_uploader("CSV file (comma, semicolon or tab separated, header row first; UTF-8 or UTF-16; may be "
                     "gzip, bz2, xz or zip compressed) or Parquet file",
                     type=["csv", "tsv", "txt", "parquet", "pq", "gz", "bz2", "xz", "zip"],
                     key="csv_upload", on_change=uploads.uploaded)  # a callback: the page shows the new data
    uploads.read_pending()  # a big CSV: read here, with progress and Stop
    if "_upload_msg" in ss:
        kind, text = ss.pop("_upload_msg")
        {"error": st.error, "info": st.info}.get(kind, st.success)(text)

with tab_gen:
    g1, g2, g3 = st.columns(3)
    g1.number_input("Points", **controls.bind("gen_n"))  # (bounds and steps: studio/fields.py)
    g2.number_input("Slope", **controls.bind("gen_slope"))
    g3.number_input("Intercept", **controls.bind("gen_intercept"))
    g4, g5, g6 = st.columns(3)
    g4.number_input("Noise (std)", **controls.bind("gen_noise"))
    g5.number_input("Outliers (%)", **controls.bind("gen_outliers"))
    g6.number_input("Seed", **controls.bind("gen_seed"))
    st.button("Generate", key="btn_generate", on_click=_generate, type="primary")

st.subheader("Columns", anchor=False)
cols = [str(c) for c in ss.ds_df.columns]
numeric = numeric_columns(ss.ds_df)
if ss.sel_target not in cols:
    ss.sel_target = numeric[-1] if numeric else cols[-1]
typed_target = guards.formula_target(state.typed_formula())
if typed_target in cols:  # a typed formula names the target: the picker shows it (greyed out below)
    ss.sel_target = typed_target
def _target_changed() -> None:
    """The old target becomes a feature (when it is a number): changing what to predict loses no column."""
    old, new = ss.get("_target_shown"), ss.sel_target
    if old and old != new and old in numeric and old not in ss.sel_features:
        ss.sel_features = [*[f for f in ss.sel_features if f != new], old]
        ss._column_note = f"**{md(old)}** was the target and is now a feature; **{md(new)}** is the target."


c1, c2 = st.columns([1, 2])
c1.selectbox("Target (y)", cols, **controls.bind("sel_target", _target_changed), disabled=typed_target in cols)
ss._target_shown = ss.sel_target
candidates = [c for c in cols if c != ss.sel_target]
ss.sel_features = [f for f in ss.sel_features if f in candidates]
typed = state.typed_formula()
c2.multiselect("Features (x)", candidates, **controls.bind("sel_features"), disabled=bool(typed),
               help="Columns to predict the target from. Numbers enter as they are; a text or true/false column "
                    "enters as categories: one coefficient per level, measured against the first level.")
if ss.get("_column_note"):
    st.caption(ss._column_note)
c3, c4 = st.columns([1, 1])
c3.number_input("Polynomial degree", **controls.bind("sel_degree"), disabled=bool(typed),
                help="Fit x, x², …, x^K of each numeric feature.")
c4.toggle("Fit an intercept", **controls.bind("sel_intercept"), disabled=bool(typed))
st.toggle("Leave out rows with blank cells", **controls.bind("sel_na"),
          help="Rows with a blank cell in a column the model uses are left out, and counted. Off: the first such "
               "cell is named so you can fix it.")
if not ss.get("ds_server"):  # (a server dataset is fitted on the cluster, unweighted)
    weight_columns = [""] + [c for c in numeric if c != ss.sel_target]
    if ss.sel_weights not in weight_columns:
        ss.sel_weights = ""
    st.columns([1, 2])[0].selectbox(
        "Weights (weighted least squares)", weight_columns, **controls.bind("sel_weights"),
        format_func=lambda c: c or "none: every row counts once",
        help="A column of positive numbers: each row's squared residual counts that many times (statsmodels' WLS, "
             "R's lm(weights=)) — e.g. how many observations a row averages, or 1/variance. Results shows the "
             "weighted fit; gradient descent trains unweighted, so the training pages ask to set it to none.")
st.text_input("Model formula (advanced)", **controls.bind("sel_formula"),
              placeholder="e.g. tip ~ total_bill + C(day) + np.log(size) + total_bill:smoker",
              help="A Wilkinson formula, as in R and statsmodels: `+` adds a term, `C(col)` makes a column of codes "
                   "categories, `a:b` is an interaction, `a*b` is a + b + a:b, `I(x**2)` computes a term, "
                   "`np.log(x)` transforms one, `- 1` drops the intercept. Names with spaces go in backticks. "
                   "When set, it replaces the pickers above; clear it to use them again.")

problem = None
try:
    problem = state.current_problem()
except NonFiniteError as exc:
    st.error(md(explain.app_words(str(exc)), 2000))
    st.button(f"Drop the {len(exc.rows)} incomplete row(s)", key="btn_drop", on_click=_drop_incomplete)
except LinregError as exc:
    st.error(md(exc, 2000))
else:
    d = problem.design
    dropped = (problem.full or d).dropped_rows
    left_out = f" ({dropped:,} with blank cells left out)" if dropped else ""
    weighted = f", weighted by {md(ss.sel_weights)}" if d.weights is not None else ""
    st.success(f"Ready: {state.rows_note(problem)}{left_out}, model {state.model_note(d)}{weighted}.")
    aliased = guards.aliased_terms(problem)
    if aliased:  # R's lm fits it and reports NA; so does Results (the training pages ask to remove them first)
        one = len(aliased) == 1
        st.warning(f"{'Aliased term' if one else 'Aliased terms'} {md(', '.join(repr(a) for a in aliased), 500)}: "
                   f"{'it is a combination' if one else 'each is a combination'} of the terms before it (a duplicate "
                   "column, or categories that never occur together), so the data cannot tell "
                   f"{'its coefficient' if one else 'their coefficients'} apart from the others. Results shows the "
                   f"exact fit without {'it' if one else 'them'}, marked aliased, as R's lm does; to train by "
                   f"gradient descent, remove {'it' if one else 'them'} from the model.", icon=":material/join:")
    st.caption(f"Formula: {md(d.model_formula, 500)}" + ("" if typed else " — built from the choices above; "
               "type your own in the advanced box."))
    st.page_link("app_pages/train.py", label="Go train it", icon=":material/model_training:")

numeric_cols = numeric_columns(ss.ds_df)
if len(numeric_cols) >= 2:
    with st.expander("Correlations and scatter matrix: choose features by looking"):
        shown = numeric_cols[: charts.MAX_CORR_COLUMNS]
        if len(numeric_cols) > len(shown):
            st.caption(f"The first {len(shown)} of {len(numeric_cols):,} numeric columns.")
        st.plotly_chart(charts.correlation_figure(ss.ds_df, shown), key="data_corr", width="stretch")
        pair = [c for c in [ss.sel_target, *ss.sel_features] if c in numeric_cols]
        pair += [c for c in numeric_cols if c not in pair]
        pair = pair[: charts.MAX_SPLOM_COLUMNS]
        st.plotly_chart(charts.scatter_matrix_figure(ss.ds_df, pair), key="data_splom", width="stretch")
        st.caption(f"The target and features first, up to {charts.MAX_SPLOM_COLUMNS} columns"
                   + (f", on a sample of {charts.MAX_SPLOM_ROWS:,} rows." if len(ss.ds_df) > charts.MAX_SPLOM_ROWS else ".")
                   + " Features strongly correlated with each other (|r| near 1) make their coefficients hard to "
                     "tell apart and gradient descent slow.")

st.subheader("Points", anchor=False)
if problem is not None:
    why_not = points.why_not_editable(problem)
    st.caption(why_not or "Click the chart to add a point; drag a box (or choose Lasso in the chart's toolbar) around "
                          "points to delete them. The dashed line is the exact least-squares fit.")
    points.points_chart(problem, key="data_points")
n_numeric = len(numeric_columns(ss.ds_df))
if n_numeric > state.MAX_DEFAULT_FEATURES + 1 and len(ss.sel_features) == state.MAX_DEFAULT_FEATURES:
    st.info(f"This data has {n_numeric:,} numeric columns; the first {state.MAX_DEFAULT_FEATURES} were chosen as "
            "features. Pick the ones you want above.")
if ss.ds_df.shape[1] > EDITABLE_COLUMNS:
    st.caption(f"{ss.ds_df.shape[1]:,} columns are too many to edit here; showing the first {EDITABLE_COLUMNS}.")
    st.dataframe(ss.ds_df.iloc[:1000, :EDITABLE_COLUMNS], width="stretch")
elif ss.get("ds_server"):
    st.caption(f"A uniform random sample of {len(ss.ds_df):,} of the {ss.ds_server_rows:,} rows (read-only: the data "
               "lives on the server).")
    st.dataframe(ss.ds_df.head(1000), width="stretch")
elif len(ss.ds_df) <= EDITABLE_ROWS:
    st.caption("Edit cells, add rows at the bottom, or select rows and delete them. What you edit is what trains.")
    if "_edit_msg" in ss:
        st.error(ss.pop("_edit_msg"))  # already escaped: it quotes what was typed
    # Numbers are edited as text: the grid's number editor silently drops the "e" of 1e5 (storing 15).
    st.data_editor(table_edit.editable_table(), key=f"editor_{ss.ds_version}", num_rows="dynamic",
                   on_change=_editor_changed, width="stretch", height=min(420, 38 + 35 * (len(ss.ds_df) + 1)))
else:
    st.caption(f"{len(ss.ds_df):,} rows are too many to edit here; showing the first 1,000.")
    st.dataframe(ss.ds_df.head(1000), width="stretch")
