"""What the command line prints of a fit: the equation, the statistics, a progress line per epoch, and the plain-words
advice when gradient descent diverged or stopped far from the exact fit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from ._callbacks import Callback, TrainResult
    from ._design import Design
    from ._solver import ExactFit
    from ._stats import FitStats
    from ._summary import FitSummary

__all__: list[str] = []  # the command line's own helpers (linreg_core._cli)


def _metrics(st: FitStats) -> dict[str, Any]:
    return {k: v for k, v in st.metrics().items()}


def _printer(every: int) -> Callback:
    from ._callbacks import Callback, EpochEvent

    every = max(1, every)

    class _Printer(Callback):
        def on_epoch_end(self, event: EpochEvent) -> None:
            if event.epoch % every == 0 or event.epoch == 1:
                print(f"epoch {event.epoch}, loss {event.loss}", flush=True)

    return _Printer()


def _equation(target: str, intercept: float | None, coef: np.ndarray, terms: list[str]) -> str:
    parts = [f"{intercept:.6g}"] if intercept is not None else []
    for c, t in zip(coef, terms):
        if c != c:  # an aliased term (NaN): not part of the fit
            continue
        sign = "-" if c < 0 else "+"
        parts.append(f"{sign} {abs(c):.6g}·{t}" if parts else f"{c:.6g}·{t}")
    return f"{target} = " + " ".join(parts)


def _summary(design: Design, exact: ExactFit, ex_stats: FitStats, result: TrainResult | None, gd_stats: FitStats | None,
             full: FitSummary | None = None) -> str:
    lines = []
    names = (["intercept"] if design.fit_intercept else []) + design.terms
    width = max(12, *(len(n) for n in names))
    if result is not None:
        cfg = result.config
        lines.append(
            f"\nTrained {result.epochs_run} epoch(s) with {cfg.optimizer} (lr {cfg.lr:g}, "
            f"{'full batch' if cfg.batch_size == 0 else f'batch {cfg.batch_size}'}) on {result.device} "
            f"in {result.train_seconds:.3f} s: {result.status}."
        )
        if result.reason:
            lines.append(result.reason)
        lines.append(f"\n{'':<{width}}  {'gradient descent':>18}  {'exact (least sq.)':>18}  {'gap':>12}")
        for i, n in enumerate(names):
            g, e = result.params[i], exact.params[i]
            if e != e:  # aliased: the exact fit has no coefficient to compare with
                lines.append(f"{n:<{width}}  {g:>18.8g}  {'NA (aliased)':>18}  {'':>12}")
            else:
                lines.append(f"{n:<{width}}  {g:>18.8g}  {e:>18.8g}  {g - e:>12.3g}")
        for label, key in (("MSE", "mse"), ("RMSE", "rmse"), ("MAE", "mae"), ("R²", "r2"), ("adj. R²", "adj_r2")):
            lines.append(f"{label:<{width}}  {gd_stats.metrics()[key]:>18.8g}  {ex_stats.metrics()[key]:>18.8g}")
        lines.append("\nGradient descent: " + _equation(design.target, result.intercept, result.coef, design.terms))
    else:
        lines.append("")
    lines.append("Exact fit:        " + _equation(design.target, exact.intercept, exact.coef, design.terms))
    lines.append(f"\nExact least squares (n={ex_stats.n}, R² {ex_stats.r2:.6g}, RMSE {ex_stats.rmse:.6g}):")
    stat = "t" if full is None or full.use_t else "z"
    half = (0.05 if full is None else full.alpha) / 2
    lines.append(f"{'':<{width}}  {'coef':>14}  {'std err':>11}  {stat:>9}  {f'P>|{stat}|':>9}  {f'[{half:g}':>12}  "
                 f"{f'{1 - half:g}]':>12}")
    rows = ex_stats.table() if full is None else [
        {"name": n, "coef": c, "std_err": se, "t": z, "p": pv, "ci_low": lo, "ci_high": hi}
        for n, c, se, z, pv, lo, hi in zip(full.names, full.params, full.std_err, full.stat, full.p_values,
                                           full.ci_low, full.ci_high)]
    if exact.aliased:  # R's words for the same thing
        lines.append(f"Coefficients: ({len(exact.aliased)} not defined because of singularities)")
    for row in rows:
        if row["coef"] != row["coef"]:
            lines.append(f"{row['name']:<{width}}  {'NA':>14}  {'NA':>11}  {'NA':>9}  {'NA':>9}  {'NA':>12}  {'NA':>12}")
            continue
        lines.append(
            f"{row['name']:<{width}}  {row['coef']:>14.8g}  {row['std_err']:>11.4g}  {row['t']:>9.4g}  "
            f"{row['p']:>9.3g}  {row['ci_low']:>12.6g}  {row['ci_high']:>12.6g}"
        )
    if full is not None:
        robust = {"nonrobust": "", "cluster": " (standard errors cluster-robust)",
                  "HAC": " (standard errors HAC, Newey-West)"}.get(full.cov_type,
                                                                 f" (standard errors {full.cov_type}, heteroskedasticity-robust)")
        if design.weights is not None:
            robust += "; weighted least squares"
        lines.append(f"Residual standard error {full.residual_std_error:.6g} on {full.df_resid} degrees of freedom{robust}")
        lines.append(f"F({full.df_model}, {full.f_df_denom}) = {full.f_statistic:.6g}, p = {full.f_pvalue:.3g}   "
                     f"log-likelihood {full.llf:.6g}   AIC {full.aic:.6g}   BIC {full.bic:.6g}")
        lines.append(f"Omnibus {full.omnibus:.4g} (p {full.omnibus_pvalue:.3g})   Jarque-Bera {full.jarque_bera:.4g} "
                     f"(p {full.jb_pvalue:.3g})   skew {full.skew:.4g}   kurtosis {full.kurtosis:.4g}   "
                     f"Durbin-Watson {full.durbin_watson:.4g}")
        lines.append(f"Condition number {full.condition_number:.4g} (of [1, X], as statsmodels reports it; "
                     f"{full.scaled_condition_number:.4g} of the column-scaled design the solver uses)")
        if len(design.terms) > 1:
            from ._summary import variance_inflation

            vif = variance_inflation(design, exact)
            lines.append("Variance inflation factors (5 or more: the term is nearly a combination of the others): "
                         + ", ".join(f"{t} {v:.4g}" for t, v in vif.items() if v == v))
    lines.extend(f"\nNote: {note}" for note in exact.warnings)  # ill-conditioned: how far to trust it
    if design.X is None:
        lines.append(f"\n(streamed from disk: {design.n_samples:,} rows; MAE and per-row predictions need the rows in memory)")
        return "\n".join(lines)
    params = result if result is not None else exact
    show = min(design.n_samples, 10)
    lines.append(f"\nPredictions (first {show} of {design.n_samples} rows):")
    pred = params.predict(design.X[:show])
    kept = design.kept_rows  # with --na drop: each row's number in the file's data rows
    for i in range(show):
        row = i + 1 if kept is None else int(kept[i]) + 1
        lines.append(f"  row {row}: actual {design.y[i]:.6g}, predicted {pred[i]:.6g}")
    return "\n".join(lines)


def _diverged_advice(design: Design, result: TrainResult) -> str:
    """One sentence for a diverged run: where it blew up and what to try, with this data's stable lr where the
    full-batch theory gives one."""
    import math

    from ._guidance import lr_guidance

    cfg, h = result.config, result.loss_history
    grew = f" (loss {h[0]:.3g} → {h[-1]:.3g})" if len(h) >= 2 and math.isfinite(h[-1]) else ""
    smaller, standardize = "a smaller --lr", "--standardize"
    if not cfg.batch_size and cfg.optimizer in ("sgd", "momentum"):
        heavy = 1.0 + cfg.momentum if cfg.optimizer == "momentum" else 1.0  # heavy ball: stable below 2(1+β)/λmax
        try:
            limit = lr_guidance(design, cfg.standardize, cfg.l2).max_stable_lr * heavy
            where = "with --standardize" if cfg.standardize else "on this data"
            smaller = f"a smaller --lr (below {limit:.3g}, the stable limit {where})"
            if not cfg.standardize:
                standardize = (f"--standardize (then stable below lr "
                               f"{lr_guidance(design, True, cfg.l2).max_stable_lr * heavy:.3g})")
        except Exception:  # guidance is advice only
            pass
    tips = ["--method exact", *([] if cfg.standardize else [standardize]), smaller]
    # The trainer's reason names the epoch: a non-finite loss is not added to the history, so epochs_run is one short.
    said = re.search(r"epoch (\d+)", result.reason or "")
    epoch = int(said.group(1)) if said else result.epochs_run
    return (f"gradient descent diverged in epoch {epoch}{grew} at lr {cfg.lr:g}, so it has no fit to "
            f"report; try {', '.join(tips[:-1])} or {tips[-1]}.")


def _far_note(design: Design, exact: ExactFit, ex_stats: FitStats, result: TrainResult,
              gd_stats: FitStats) -> str | None:
    """A finished run still far from the exact optimum: how far, and what to try (None when it is close)."""
    import numpy as np

    from ._guidance import lr_guidance

    if result.status == "diverged" or ex_stats.mse <= 0:
        return None
    excess = gd_stats.mse / ex_stats.mse - 1.0
    if excess <= 1e-3:
        return None
    cfg = result.config
    tips = [f"more --epochs than {cfg.epochs:,}"]
    try:
        g = lr_guidance(design, cfg.standardize, cfg.l2)
        if cfg.optimizer in ("sgd", "momentum") and cfg.lr < 0.5 * g.optimal_lr:
            tips.insert(0, f"a larger --lr (up to {g.optimal_lr:.3g}, the fastest stable one)")
        if not cfg.standardize:
            tips.append("--standardize")
    except Exception:  # guidance is advice only
        pass
    if cfg.optimizer != "adam":
        tips.append("--optimizer adam")
    gap = float(np.nanmax(np.abs(result.params - exact.params)))  # aliased terms (NaN) have no exact value
    return (f"gradient descent {result.status} but is still far from the exact optimum: its loss is "
            f"{100 * excess:.3g}% above the least-squares minimum (R² {gd_stats.r2:.4g} vs {ex_stats.r2:.4g}; largest "
            f"parameter gap {gap:.3g}). Try {', '.join(tips[:-1]) + ' or ' + tips[-1] if len(tips) > 1 else tips[0]}.")
