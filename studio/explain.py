"""Explanations built from the numbers they are shown with.

Each function takes the numbers and returns the text, so a test can feed it any case (a round bowl, an lr far
below the fastest one, a narrow valley) and check that what it says is true of them. The model behind them is
full-batch gradient descent on the MSE, whose Hessian is constant (linreg_core/_guidance.py): along a direction
of curvature λ, one epoch at lr η multiplies the distance to the minimum by |1 − ηλ|; with momentum β by the
larger root (in size) of z² − (1 + β − ηλ)z + β. "Curvature" is how sharply the loss bends, not how steep it is:
the gradient is the steepness.
"""

from __future__ import annotations

import math

import numpy as np

from linreg_core import Design, LrGuidance, TrainConfig

from .labels import OPTIMIZER_LABELS
from .text import md

# One line under each of the Train page's charts: what it shows, for a first visitor.
FIT_CAPTION = ("The points, the exact least-squares line (dashed) and gradient descent's line (solid) after each "
               "epoch of the run; grey dots: the previous run's line, to compare.")
PREDICTED_CAPTION = ("Each row's prediction against its actual value: on the diagonal, a prediction is exact. "
                     "Gradient descent's predictions move there as it trains.")
LOSS_CAPTION = ("The loss (mean squared error: the average squared vertical distance from the points to the line) "
                "after each epoch. Before a run, the dotted curve is where these settings lead; a grey one is the "
                "previous run's.")
LANDSCAPE_CAPTION = ("The loss for every intercept and slope, in coloured bands like a map's contours (darkest is "
                     "lowest; the colour bar gives each band's log₁₀ MSE). The star is the exact minimum; the line is "
                     "gradient descent's path.")
PARTIAL_CAPTION = ("What the model says about one feature: the prediction as it moves while every other feature stays "
                   "at its mean. Its slope is the feature's coefficient; gradient descent's line (solid) turns toward "
                   "the exact fit's (dashed) as it trains.")
PLANE3D_CAPTION = ("The points in 3-D over the two features, the exact least-squares plane (dashed) and gradient "
                   "descent's plane (filled) swinging into place as it trains. Drag the chart to turn it.")
PLANE_CAPTION = ("With two features the model is a plane over them: the colour bands are the exact fit's prediction, "
                 "each point is coloured by its actual value (a point that stands out from the ground under it is far "
                 "from the plane), and the lines are gradient descent's plane, where it predicts the same value.")
CUT = 1000  # the pace is quoted as the epochs that cut the distance to the minimum 1,000-fold
ROUND = 1.1  # below this curvature ratio the loss is a round bowl: every direction curves about the same
ADAPTIVE = {"adam", "rmsprop", "adagrad"}

GAP = ("the largest difference between a parameter and the exact least-squares one, in the data's units; 0 "
       "means gradient descent has found the exact fit")


def ratio_text(c: float) -> str:
    """A curvature ratio as shown: three digits, or words for the astronomically large ones."""
    if c >= 1e12:
        return "over 10¹² (nearly collinear columns)"
    return f"{c:.3g}" if c < 1000 else f"{c:,.0f}"


def _rates(g: LrGuidance, lrs: np.ndarray, momentum: float) -> np.ndarray:
    """rate() at each of ``lrs``: the largest root size of z² − (1 + β − ηλ)z + β over the curvatures λ."""
    lam = np.clip(np.asarray(g.eigenvalues, dtype=np.float64), 0.0, None)
    b = 1.0 + momentum - np.outer(lrs, lam)
    disc = b * b - 4.0 * momentum
    radius = np.where(disc >= 0, (np.abs(b) + np.sqrt(np.clip(disc, 0.0, None))) / 2, math.sqrt(momentum))
    return radius.max(axis=1)


def rate(g: LrGuidance, lr: float, momentum: float = 0.0) -> float:
    """The factor by which one full-batch epoch at ``lr`` shrinks the distance to the minimum along the slowest
    direction (≥ 1: it never gets there)."""
    return float(_rates(g, np.array([lr]), momentum)[0])


def epochs_to_cut(factor: float) -> float:
    """Epochs that cut the distance to the minimum ``CUT``-fold at ``factor`` per epoch (inf: never)."""
    if factor >= 1.0:
        return math.inf
    if factor <= 1.0 / CUT:
        return 1
    return math.ceil(math.log(CUT) / -math.log(factor))


def fastest_lrs(g: LrGuidance, momentum: float) -> tuple[float, float]:
    """With momentum, the range of lrs that share the best pace momentum allows (√β per epoch where every
    direction oscillates: a whole range of lrs reaches it)."""
    limit = 2.0 * (1.0 + momentum) / float(np.max(g.eigenvalues))
    etas = np.geomspace(limit * 1e-6, limit, 3001)[:-1]
    rates = _rates(g, etas, momentum)
    best = etas[rates <= rates.min() * (1 + 1e-9)]
    return float(best[0]), float(best[-1])


def fastest_lr(g: LrGuidance, momentum: float = 0.0) -> float:
    """The fixed lr with the fastest pace: 2 / (λmax + λmin) for plain SGD; with momentum, the middle (on a log
    scale) of the range that shares the best pace — its ends converge more slowly at first (a double root)."""
    if momentum == 0.0:
        return g.optimal_lr
    lo, hi = fastest_lrs(g, momentum)
    return math.sqrt(lo * hi)


def _epochs(n: float) -> str:
    return "never" if math.isinf(n) else f"about {int(n):,} epoch{'' if n == 1 else 's'}"


def curvature_note(g: LrGuidance) -> str:
    """The loss's curvature ratio in words, with what it costs plain gradient descent at the fastest fixed lr."""
    k = g.condition_number
    if not math.isfinite(k):
        return ("The loss does not curve at all along some direction (columns that repeat each other), so gradient "
                "descent never settles along it.")
    pace = (f"at the fastest fixed lr, {g.optimal_lr:.3g}, plain gradient descent cuts its distance to the minimum "
            f"{CUT:,}-fold in {_epochs(epochs_to_cut(rate(g, g.optimal_lr)))}")
    if k < ROUND:
        return (f"The loss curves about equally in every direction (its curvature ratio is **{k:.3g}**: a round "
                f"bowl), so one lr suits them all: {pace}.")
    return (f"The loss curves **{ratio_text(k)}×** more sharply along its most curved direction than along its "
            f"flattest (its curvature ratio). A stable lr must suit the most curved one; {pace} — the larger the "
            "ratio, the more epochs.")


def guidance_caption(g: LrGuidance, momentum: float | None = None) -> str:
    """The sidebar's note on the learning rate for this data (``momentum``: SGD + momentum's β, if chosen)."""
    limit = g.max_stable_lr * (1.0 + momentum if momentum is not None else 1.0)  # heavy ball: 2(1+β)/λmax
    which = "momentum " if momentum is not None else ""
    fastest = "for plain SGD " if momentum is not None else ""
    return (f"On this data, full-batch {which}SGD is stable below lr **{limit:.3g}**; the fastest fixed lr "
            f"{fastest}is **{g.optimal_lr:.3g}**. " + curvature_note(g))


def slow_cause(g: LrGuidance, config: TrainConfig, epochs: int) -> str | None:
    """Why a run of ``epochs`` epochs with ``config`` is still far from the minimum: the lr, the curvature or
    both, judged from their paces, not assumed. None where the full-batch model does not apply (mini-batches)."""
    if config.l2 > 0:
        return (f"With an L2 penalty of {config.l2:g} training heads for the ridge optimum, which is not the exact "
                "least-squares fit: that part of the gap never closes.")
    if config.optimizer in ADAPTIVE:
        label = OPTIMIZER_LABELS[config.optimizer]
        if config.optimizer == "adagrad":
            return ("Adagrad's steps shrink as training goes on (lr divided by the root of all squared gradients so "
                    f"far), whatever the curvature: at lr {config.lr:g} they became too small to get there.")
        return (f"{label} moves each parameter about lr ({config.lr:g}) per step whatever the curvature, so the "
                "lr and the number of epochs set how far it gets.")
    if config.batch_size:
        return None
    beta = config.momentum if config.optimizer == "momentum" else 0.0
    lr, k = config.lr, g.condition_number
    fast = fastest_lr(g, beta)
    n_now, n_best = epochs_to_cut(rate(g, lr, beta)), epochs_to_cut(rate(g, fast, beta))
    how = f"lr {lr:g}" + (f" with momentum {beta:g}" if beta else "")
    pace = (f"At {how}, gradient descent needs {_epochs(n_now)} to cut its distance to the minimum {CUT:,}-fold "
            "on this data.")
    if beta:
        lo, hi = fastest_lrs(g, beta)
        best = f"{fast:.3g}, a fastest lr for momentum {beta:g}" + (
            f" (every lr from {lo:.3g} to {hi:.3g} shares its pace)" if hi > 1.05 * lo else "")
        at_best = f"at the fastest pace momentum {beta:g} allows"
    else:
        best, at_best = f"the fastest fixed lr, {fast:.3g}", f"at the fastest fixed lr, {fast:.3g},"
    lr_slow, curve_slow = n_now > 2 * n_best, n_best > epochs
    curves = f"the loss curves {ratio_text(k)}× more sharply along its most curved direction than along its flattest"
    if lr_slow:
        if lr < fast:
            compared = f"lr {lr:g} is {fast / lr:,.3g}× below {best}"
        else:
            compared = (f"lr {lr:g} is so close to the stable limit that it overshoots back and forth along the most "
                        f"curved direction; compare {best}")
        if curve_slow:
            return (f"{pace} Both the lr and the curvature hold it back: {compared}; and {curves}, so even "
                    f"{at_best} it would need {_epochs(n_best)}, more than this run's {epochs:,}.")
        return (f"{pace} The lr is what holds it back, not the curvature (ratio {ratio_text(k)}): {compared}, at "
                f"which {_epochs(n_best)} would do.")
    if curve_slow and beta and math.isclose(rate(g, lr, beta), math.sqrt(beta), rel_tol=1e-9):
        # Every direction oscillates and shrinks by √β per epoch: β, not the curvature, sets the pace. That happens
        # only for β above Polyak's ((√κ − 1)/(√κ + 1))², and a smaller β down to it is faster.
        root = math.sqrt(k)
        return (f"{pace} Momentum {beta:g} sets that pace: at this lr every direction oscillates and shrinks by "
                f"√{beta:g} ≈ {math.sqrt(beta):.3g} per epoch. For this curvature (ratio {ratio_text(k)}) a smaller "
                f"momentum, down to about {((root - 1) / (root + 1)) ** 2:.2g}, would shrink it faster.")
    if curve_slow:
        return (f"{pace} The curvature is what holds it back: {curves}, and a stable lr must suit the most curved "
                f"one, so even {at_best} it needs {_epochs(n_best)}.")
    return f"{pace} More epochs at this pace close the rest."


def far_from_exact_note(gap: float, epochs: int, config: TrainConfig, g: LrGuidance,
                        standardized: LrGuidance | None = None) -> str:
    """A finished run still far from the exact fit: by how much (the gap, defined), why, and what to try.
    ``standardized``: the guidance with standardization on, when the run had it off."""
    beta = config.momentum if config.optimizer == "momentum" else 0.0
    tips = []
    if config.optimizer in ("sgd", "momentum") and not config.batch_size and config.l2 == 0:
        fast = fastest_lr(g, beta)
        if config.lr < fast and epochs_to_cut(rate(g, config.lr, beta)) > 2 * epochs_to_cut(rate(g, fast, beta)):
            if beta:
                lo, hi = fastest_lrs(g, beta)
                span = f"{lo:.3g} to {hi:.3g}" if hi > 1.05 * lo else f"about {fast:.3g}"
                tips.append(f"a larger lr ({span}: the fastest pace momentum {beta:g} allows)")
            else:
                tips.append(f"a larger lr (up to {fast:.3g}, the fastest stable one)")
    tips.append(f"more epochs than {epochs:,}")
    if standardized is not None and standardized.condition_number < 0.9 * g.condition_number:
        tips.append("standardizing the features")
    if config.optimizer != "adam":
        tips.append("Adam")
    head = f"**Still {gap:.3g} from the exact fit after {epochs:,} epochs** ({GAP})."
    tried = ", ".join(tips[:-1]) + " or " + tips[-1] if len(tips) > 1 else tips[0]
    return " ".join(filter(None, [head, slow_cause(g, config, epochs), f"Try {tried}."]))


def preview_note(preview, config: TrainConfig) -> str:
    """What the dotted preview on the charts is, and where that run would end (linreg_core.Preview)."""
    n = len(preview.losses)
    what = f"{OPTIMIZER_LABELS.get(config.optimizer, config.optimizer)} at lr {config.lr:g}"
    if preview.diverged_at is not None:
        return (f"Preview (dotted): {what} diverges at epoch {preview.diverged_at:,} — lower the learning rate "
                "before pressing Train.")
    more = f" (the first {n:,} of {config.epochs:,} epochs)" if n < config.epochs else ""
    return (f"Preview (dotted): {what} would reach loss {preview.losses[-1]:.4g} after {n:,} epochs{more} — computed "
            "exactly from the data's sums of squares, before any training. Change a setting to see its path; press "
            "Train to watch it.")


def standardizing_note(design: Design, with_: LrGuidance, without: LrGuidance) -> str:
    """What standardizing does on this data (``with_`` it and ``without``), measured, not assumed: it evens out the
    features' scales, but powers of one feature (or correlated features) stay a narrow valley, and the stable lr can
    fall."""
    text = (f"Standardizing (x − mean) / std changes the curvature ratio {ratio_text(without.condition_number)} → "
            f"{ratio_text(with_.condition_number)} and the stable lr {without.max_stable_lr:.3g} → "
            f"{with_.max_stable_lr:.3g}")
    effects = []
    if with_.condition_number < 0.9 * without.condition_number:
        effects.append("fewer epochs are needed at the best lr")
    else:
        effects.append("no fewer epochs are needed")
    if with_.max_stable_lr < 0.9 * without.max_stable_lr:
        effects.append("but the lr must be smaller (the scaled columns are larger than the raw ones)")
    text += ": " + ", ".join(effects) + "."
    terms = design.terms
    if len(terms) > 1 and with_.condition_number > 100:
        poly = len(design.features) == 1
        why = ("x, x², x³, … of one feature stay strongly correlated after scaling"
               if poly else "correlated features stay correlated after scaling")
        text += (f" Even so it stays a narrow valley — {why}. What helps more: Adam or RMSprop (a step size per "
                 f"parameter), more epochs{', or a lower degree' if poly else ''}.")
    dummies = [t for t in terms if "[" in t]  # a formula's category columns: 0/1 indicators such as day[T.Sat]
    if dummies:
        text += (f" The {len(dummies)} category column(s) (0/1, e.g. {md(dummies[0])}) are standardized like the "
                 "others — only to train faster; the coefficients shown are converted back, so each still reads as "
                 "the difference from the reference level.")
    return text


# The library's words for a choice the command line makes with a flag, and the app's for the same choice.
_APP_WORDS = {
    "pass na='drop' (command line: --na drop) to leave them out":
        "turn on “Leave out rows with blank cells” above to leave them out",
}


def app_words(message: str) -> str:
    """A library message with its command-line advice in the app's words (the toggle, not na='drop')."""
    for library, app in _APP_WORDS.items():
        message = message.replace(library, app)
    return message
