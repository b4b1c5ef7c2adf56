"""Results: the equation, metrics, coefficient table, residuals, gradient descent vs exact, downloads."""

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import (
    COV_TYPES,
    SUMMARY_FORMATS,
    LinregError,
    anova,
    cluster_groups,
    f_test,
    fit_influence,
    fit_stats,
    fit_summary,
    loss_history_csv,
    model_json,
    predictions_csv,
    reproduction_script,
    summary_document,
    variance_inflation,
)
from studio import cache, charts, controls, diagnostics, explain, numbers, prediction, share, state
from studio.tex import equation
from studio.text import md

ss = st.session_state


st.title("Results", anchor=False)
problem = state.problem_or_stop("fitted", trainable=False)

design, exact, ex_stats = problem.design, problem.exact, problem.stats
run = ss.run if state.run_matches(problem) else None
if run is None:
    st.info("No gradient-descent run on this data yet — showing the exact least-squares fit. "
            "Train on the Train page to compare.")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
gd_stats = fit_stats(design, exact, run.intercept, run.coef) if run else None

st.subheader("Fitted equation", anchor=False)
if run:
    st.markdown(f"**Gradient descent** ({run.status}, {run.epochs_run:,} epochs, {run.config.optimizer}, "
                f"lr {run.config.lr:g})")
    st.latex(equation(design.target, run.intercept, run.coef, design.terms))
st.markdown("**Exact least squares**")
# Below the data's rounding level a number is float64 noise, not a result: it reads as 0 (studio/numbers.py).
st.latex(numbers.exact_equation(design, ex_stats))
if design.weights is not None:
    st.caption(f"Weighted least squares: each row's squared residual counts **{md(ss.sel_weights)}** times (statsmodels' "
               "WLS, R's lm(weights=)); the MSE, R² and tests below are the weighted ones.")

st.subheader("Metrics", anchor=False)
metrics = ["mse", "rmse", "mae", "r2", "adj_r2"]
labels = {"mse": "MSE", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "adj_r2": "adjusted R²"}
table = {"exact least squares": numbers.metrics(ex_stats, metrics)}
if gd_stats:
    table = {"gradient descent": numbers.metrics(gd_stats, metrics)} | table
index = [labels[m] for m in metrics]
if problem.validation is not None:  # metrics above are on the training rows; add the held-out MSE
    index.append(f"validation MSE ({problem.validation.n_samples:,} held-out rows)")
    fitted = {"gradient descent": (run.intercept, run.coef)} if run else {}
    fitted["exact least squares"] = exact
    for name, params in fitted.items():
        table[name].append(state.validation_mse(problem.validation, params))
    st.caption(f"A validation split is on: the fit and these metrics use the {design.n_samples:,} training rows.")
st.dataframe(pd.DataFrame(table, index=index).style.format("{:.6g}"), width="stretch")

st.subheader("Coefficients", anchor=False)
COV_LABELS = {"nonrobust": "classical (assume equal noise)", "HC0": "HC0 (robust)", "HC1": "HC1 (robust, df-corrected)",
              "HC2": "HC2 (robust, leverage-weighted)", "HC3": "HC3 (robust, leverage-weighted²)",
              "cluster": "cluster-robust (rows in groups)", "HAC": "HAC, Newey–West (rows in time order)"}
summ = None
if design.X is not None:
    c_cov, c_opt = st.columns([1, 2])
    c_cov.selectbox("Standard errors", COV_TYPES, format_func=COV_LABELS.get, **controls.bind("res_cov"),
                    help="Classical standard errors assume every row's noise has the same size and is independent. "
                         "The robust (HC, heteroskedasticity-consistent) ones allow each row its own noise; "
                         "cluster-robust ones also let rows of one group (a firm, a school) share it; HAC ones let "
                         "neighbouring rows of a time series share it. With them statsmodels reports z and the normal "
                         "distribution, and so does this table.")
    cov_kwargs, cov_key = {}, (ss.res_cov,)
    if ss.res_cov == "cluster":
        group_columns = [c for c in map(str, ss.ds_df.columns) if c != design.target]
        if ss.res_groups not in group_columns:
            ss.res_groups = group_columns[0] if group_columns else ""
        c_opt.selectbox("Groups (clusters)", group_columns, **controls.bind("res_groups"),
                        help="The column that names each row's group: rows of one group may share their noise.")
        try:
            # the table the design's rows come from: a training split's rows are picked out first
            table = ss.ds_df if design.rows is None else ss.ds_df.iloc[state.data_row_numbers(problem) - 1]
            cov_kwargs = {"groups": cluster_groups(design, table, ss.res_groups)}
        except LinregError as exc:
            st.error(md(exc, 1000))
            st.stop()
        cov_key += (ss.res_groups,)
    elif ss.res_cov == "HAC":
        if ss.res_maxlags is None:  # Newey and West's (1994) rule of thumb for the data's length
            ss.res_maxlags = int(4 * (design.n_samples / 100) ** (2 / 9))
        c_opt.number_input("Lags", min_value=0, max_value=max(design.n_samples - 1, 0), step=1,
                           **controls.bind("res_maxlags"),
                           help="How many neighbouring rows may share their noise (Bartlett weights, as statsmodels' "
                                "cov_type='HAC'). The first value is Newey and West's rule, ⌊4 (n/100)^(2/9)⌋.")
        cov_kwargs, cov_key = {"maxlags": int(ss.res_maxlags)}, cov_key + (int(ss.res_maxlags),)
    summ = cache.session_cached("_summary", (problem.key, *cov_key),
                                lambda: fit_summary(design, exact, ss.res_cov, **cov_kwargs))
stat = "t" if summ is None or summ.use_t else "z"
rows = ex_stats.table() if summ is None else [
    {"name": n, "coef": c, "std_err": se, "t": z, "p": pv, "ci_low": lo, "ci_high": hi}
    for n, c, se, z, pv, lo, hi in zip(summ.names, summ.params, summ.std_err, summ.stat, summ.p_values, summ.ci_low,
                                       summ.ci_high)]
coef = pd.DataFrame(rows).set_index("name")
coef.columns = ["exact coef", "std err", stat, f"P>|{stat}|", "95% CI low", "95% CI high"]
if ex_stats.perfect_fit:
    coef["std err"] = 0.0
for col in ("exact coef", "95% CI low", "95% CI high"):
    coef[col] = ex_stats.tidy(coef[col].to_numpy())
if design.X is not None and len(design.terms) > 1:  # collinearity per term (the intercept has none)
    vif = variance_inflation(design, exact)
    coef["VIF"] = ["—" if n == "intercept" else f"{vif[n]:.6g}" for n in coef.index]  # (a NaN would read "None")
if run:
    coef.insert(0, "gradient descent", ([run.intercept] if design.fit_intercept else []) + list(run.coef))
    coef.insert(1, "gap", coef["gradient descent"] - coef["exact coef"])
if ex_stats.perfect_fit:  # not defined: the table says so in words (a blank NaN reads as "None")
    coef[stat] = coef[f"P>|{stat}|"] = "not defined"
    coef["95% CI low"], coef["95% CI high"] = coef["exact coef"], coef["exact coef"]
if exact.aliased:  # R's NA: no estimate, no standard error (the table says which, in words)
    coef = coef.astype(object)
    coef.iloc[list(exact.aliased), [coef.columns.get_loc(c) for c in coef.columns if c != "gradient descent"]] = \
        "aliased"
for col in coef.columns:  # a column with words in it ("aliased", "not defined") is text throughout: Arrow needs one
    if coef[col].dtype == object:  # type per column (else Streamlit logs a traceback and converts it anyway)
        coef[col] = [f"{v:.6g}" if isinstance(v, float) else v for v in coef[col]]
# Every row in view up to 25 terms (a formula's dummies make long tables; a hidden row is a missed coefficient).
st.dataframe(coef.style.format(lambda v: ("—" if v != v else f"{v:.6g}") if isinstance(v, float) else v), width="stretch",
             height=min(38 + 35 * len(coef), 38 + 35 * 25),
             column_config={"gap": st.column_config.Column(help="Gradient descent's coefficient minus the exact one."),
                            "VIF": st.column_config.Column(help="Variance inflation factor: 1 / (1 − R²) of the term "
                                                           "regressed on the others. 5 or more: nearly a combination "
                                                           "of them, so its standard error is inflated.")})
if ex_stats.perfect_fit:
    st.info("Every point lies on the fitted line: the residuals are at float64's rounding level, so the MSE is 0, "
            "the standard errors are 0 and t and p are not defined. With noisy data they measure how sure the "
            "estimate is.")
st.caption(f"Standard errors, t, p and intervals are for the least-squares estimate (n = {ex_stats.n}, "
           f"{ex_stats.df_resid} residual degrees of freedom). Condition number of the column-scaled design "
           f"matrix: {exact.condition_number:.3g} — how nearly the columns repeat each other (1 = independent; "
           "large = coefficients that are hard to tell apart). Not the same number as the sidebar's curvature "
           "ratio of the loss, which governs gradient descent.",
           help="Values smaller than the data's rounding level (about 1e-14 of its scale) are shown as 0.")
if summ is not None:
    def figure(value: float, digits: str = ".6g") -> str:
        return f"{value:{digits}}" if np.isfinite(value) and not ex_stats.perfect_fit else "not defined"

    table = {
        "F-statistic (all slopes 0)": f"{figure(summ.f_statistic)} on {summ.df_model} and {summ.df_resid} df, "
                                      f"p = {figure(summ.f_pvalue, '.3g')}",
        "residual standard error": f"{figure(summ.residual_std_error)} on {summ.df_resid} df",
        "log-likelihood, AIC, BIC": f"{figure(summ.llf)}, {figure(summ.aic)}, {figure(summ.bic)}",
        "Omnibus (normal residuals?)": f"{figure(summ.omnibus, '.4g')}, p = {figure(summ.omnibus_pvalue, '.3g')}",
        "Jarque–Bera": f"{figure(summ.jarque_bera, '.4g')}, p = {figure(summ.jb_pvalue, '.3g')}",
        "skew, kurtosis (normal: 0, 3)": f"{figure(summ.skew, '.4g')}, {figure(summ.kurtosis, '.4g')}",
        "Durbin–Watson (no autocorrelation: 2)": figure(summ.durbin_watson, ".4g"),
        "condition number of [1, X] (statsmodels')": f"{summ.condition_number:.4g}",
        "condition number of the scaled design": f"{summ.scaled_condition_number:.4g}",
    }
    with st.expander("Model summary (as statsmodels' OLS summary)", expanded=True):
        st.dataframe(pd.DataFrame({"value": table}), width="stretch")
        st.caption(f"Standard errors: {COV_LABELS[summ.cov_type]}. With the robust ones F is a Wald test. The first "
                   "condition number is the raw design's (large when columns have very different scales); the second "
                   "is of the columns scaled to unit length, which the solver works with.")
if summ is not None:
    with st.expander("Analysis of variance and tests (as statsmodels' anova_lm and f_test)"):
        typ = st.segmented_control("ANOVA type", [1, 2, 3], format_func=lambda t: "I II III".split()[t - 1],
                                   required=True, **controls.bind("res_anova"),
                                   help="Type I: each term after the terms before it (the formula's order). Type II: "
                                        "after all others except its interactions. Type III: after all others.")
        try:
            aov = cache.session_cached("_anova", (problem.key, typ), lambda: anova(design, typ))
        except LinregError as exc:
            st.error(md(exc, 1000))
        else:
            # as text: the residual row has no test (blank, as statsmodels prints it; a NaN would read "None")
            cells = [["" if v != v else f"{v:.6g}" for v in row] for row in aov.values]
            st.dataframe(pd.DataFrame(cells, index=aov.index, columns=aov.columns), width="stretch")
        st.text_input("Test linear restrictions", **controls.bind("res_test"),
                      placeholder="e.g. total_bill = 0.1, size = 0",
                      help="Restrictions on the coefficients, named as in the table above, separated by commas: an F "
                           "test with the standard errors chosen above (statsmodels' f_test).")
        if ss.res_test.strip():
            try:
                tested = f_test(summ, ss.res_test)
            except LinregError as exc:
                st.error(md(exc, 1000))
            else:
                st.markdown(f"F({tested.df_num}, {tested.df_denom}) = **{tested.F:.6g}**, p = **{tested.p:.4g}**")
for note in exact.warnings:  # aliased terms, or ill-conditioned: how far the coefficients can be trusted
    st.warning(md(note, 2000))

fits = {"exact least squares": exact}
if run:
    fits = {"gradient descent": (run.intercept, run.coef)} | fits
c1, c2 = st.columns(2)
# A perfect fit's residuals are float64 noise (1e-15): drawn, they fill a femto-scaled axis. They are 0.
on_line = ["exact least squares"] if numbers.residuals_all_zero(ex_stats) else []
if on_line and not run:
    c1.info(numbers.ALL_ZERO)
else:
    c1.plotly_chart(charts.residual_figure(design, fits, on_line), key="residuals", width="stretch")
if run:
    c2.plotly_chart(charts.loss_figure(run.history, ss.ui_logy, ex_stats.mse, None,
                                       run.val_history if problem.validation is not None else None),
                    key="loss_final", width="stretch")
else:
    c2.plotly_chart(charts.fit_figure(design, None, fits["exact least squares"]), key="fit_exact", width="stretch")

if summ is not None and not ex_stats.perfect_fit and ex_stats.df_resid > 0:
    st.subheader("Diagnostics of the exact fit", anchor=False)
    st.caption("R's four plot.lm panels. The rows with the largest Cook's distance (how much the fit moves without "
               "them) are named by their row number in the data.")
    figs = cache.session_cached("_influence", problem.key, lambda: diagnostics.panels(  # once per fit (500k rows: 0.3 s)
        fit_influence(design, exact), summ.jb_pvalue, state.data_row_numbers(problem)))
    for pair in (figs[:2], figs[2:]):
        cols = st.columns(2)
        for col, (fig, reading) in zip(cols, pair):
            col.plotly_chart(fig, key=f"diag_{fig.layout.title.text}", width="stretch")
            col.caption(reading)

st.subheader("Downloads", anchor=False)
gd = (run.intercept, run.coef) if run else None
gd_doc = None
if run:
    gd_doc = {"intercept": run.intercept, "coef": run.coef, "status": run.status,
              "epochs_run": run.epochs_run, "final_loss": run.history[-1] if run.history else None,
              "config": run.config.to_dict(), "metrics": gd_stats.metrics()}
downloads = st.container(horizontal=True, gap="xsmall")  # wraps: every label whole at 1024 px and on a phone
# Built when clicked, not on every visit: 500k rows of CSV take seconds. (The callable runs outside the script, so it
# gets its inputs now, not from the session.)
pred_inputs = (state.used_rows(problem), problem.full or design, gd, exact, problem.split_labels())
rows_here = design.X is not None  # a server dataset's rows stay on the cluster
downloads.download_button("Predictions (CSV)", lambda: predictions_csv(*pred_inputs), disabled=not rows_here,
                   help=None if rows_here else "The rows stay on the server: predict a file of rows below instead.",
                   file_name="predictions.csv", mime="text/csv", key="dl_pred", on_click="ignore")
downloads.download_button("Loss history (CSV)", loss_history_csv(run.history if run else []), file_name="loss_history.csv",
                   mime="text/csv", key="dl_loss", disabled=run is None)
downloads.download_button("Model (JSON)", model_json(design, gd_doc, exact, ex_stats, summ), file_name="model.json",
                   mime="application/json", key="dl_model",
                   help="Formula, category levels, coefficients and their covariance: predict new rows with it below, "
                        "or with python -m linreg_core predict model.json new.csv --interval prediction.")
if summ is not None:  # the summary as one document, as statsmodels' res.summary() (and the CLI's --summary-format)
    f1, f2 = st.columns([1, 3], vertical_alignment="bottom")
    fmt = f1.selectbox("Summary format", SUMMARY_FORMATS, key="res_summary_format",
                       format_func={"text": "Text", "html": "HTML", "latex": "LaTeX", "markdown": "Markdown"}.get)
    ext, mime = {"text": ("txt", "text/plain"), "html": ("html", "text/html"), "latex": ("tex", "application/x-tex"),
                 "markdown": ("md", "text/markdown")}[fmt]
    f2.download_button(f"Summary ({fmt if fmt != 'latex' else 'LaTeX'})",
                       lambda: summary_document(design, exact, summ, fmt), file_name=f"summary.{ext}", mime=mime,
                       key="dl_summary", on_click="ignore",
                       help="The exact fit's summary with the standard errors chosen above: the dependent variable, "
                            "n, the fit statistics, the coefficients and the residual diagnostics.")

st.subheader("Predict new rows", anchor=False)
st.caption("Upload a CSV with the model's columns; each row gets its prediction from the exact fit, with an interval. "
           "A *prediction* interval covers a new observation; a *confidence* interval covers the mean at those values.")
source = st.radio("Model", ["This fit", "A saved model (JSON)"], horizontal=True, key="pred_source")
model = None
if source == "This fit":
    model = prediction.current_model(problem, summ)
else:
    saved = st.file_uploader("Model JSON (Results → Model (JSON), or fit --save-model)", type=["json"],
                             key="pred_model_file")
    if saved is not None:
        model = prediction.load_saved(saved.getvalue(), saved.name)
    if model is not None:
        prediction.describe(model)
p1, p2 = st.columns(2)
interval = p1.radio("Interval", ["prediction", "confidence"], horizontal=True, key="pred_interval")
level = p2.select_slider("Level", [0.8, 0.9, 0.95, 0.99], value=0.95, key="pred_level", format_func="{:.0%}".format)
rows_file = st.file_uploader("New rows (CSV)", type=["csv", "tsv", "txt"], key="pred_rows")
if model is not None and rows_file is not None:
    prediction.predict_and_offer(model, rows_file.getvalue(), rows_file.name, interval, 1.0 - level)
downloads.download_button("PyTorch script (.py)",
                   reproduction_script(design, run.config if run else state.train_config()) if rows_here else "",
                   disabled=not rows_here,
                   file_name="reproduce_run.py", mime="text/x-python", key="dl_script",
                   help="A standalone script with this data and these settings that reproduces the run exactly.")

st.subheader("This session's runs", anchor=False)
runs = state.runs_table(problem)
if runs.empty:
    st.caption("Runs you train appear here, newest first, to compare them.")
else:
    st.dataframe(runs, hide_index=True, width="stretch",
                 column_config={"lr": st.column_config.NumberColumn(format="%.4g"),
                                "final loss": st.column_config.NumberColumn(format="%.6g"),
                                "gap to exact": st.column_config.NumberColumn(format="%.3g", help=f"Gap to exact: {explain.GAP}."),
                                "seconds": st.column_config.NumberColumn(format="%.3f")})
    st.caption(f"Gap to exact: {explain.GAP}.")
    r1, r2 = st.columns([1, 3])
    pick = r1.selectbox("Run", runs["run"].tolist(), key="reopen_pick", label_visibility="collapsed")
    r2.button("Re-open this run's settings on the Train page", key="btn_reopen", on_click=state.reopen_settings,
              args=(int(pick),))

st.subheader("Share this setup", anchor=False)
st.caption("A link that restores these settings and column choice — and the data itself when it has at most "
           f"{share.MAX_SHARED_ROWS} rows — in a new browser session.")
link = share.share_url()
q1, q2 = st.columns([3, 2])  # (room for a QR code a phone can read from the back of a room at 1024 px)
q1.code(link, language=None, wrap_lines=True)
q1.caption(f"{len(link):,} characters. Presets and generated data travel as their names and values, not rows.")
qr = share.qr_svg(link)
if qr is not None:
    q2.image(qr, caption="Scan to open this setup", width=220)
else:
    q2.caption(f"No QR code: {len(link):,} characters of link (its rows of data) are more than one holds. A preset "
               "or generated data makes a short link.")
