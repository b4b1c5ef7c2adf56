"""How it works: the tutorial's seven steps, each shown with the live objects the studio is using now."""

from dataclasses import replace

import streamlit as st
import torch

from linreg_core import LinregError, Trainer
from studio import charts, numbers, state, warmup
from studio.tex import column, equation, name, num
from studio.text import md, md_list

warmup.torch_ready()  # this page trains as it opens: torch and its thread policy first
ss = st.session_state
OPT_CODE = {
    "sgd": "torch.optim.SGD(model.parameters(), lr={lr:g})",
    "momentum": "torch.optim.SGD(model.parameters(), lr={lr:g}, momentum={m:g})",
    "adam": "torch.optim.Adam(model.parameters(), lr={lr:g})",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr={lr:g})",
    "adagrad": "torch.optim.Adagrad(model.parameters(), lr={lr:g})",
}
UPDATE = {
    "sgd": r"\theta \leftarrow \theta - \eta\, \nabla_\theta L",
    "momentum": r"v \leftarrow \beta v + \nabla_\theta L, \qquad \theta \leftarrow \theta - \eta\, v",
    "adam": r"m \leftarrow \beta_1 m + (1-\beta_1) g,\; s \leftarrow \beta_2 s + (1-\beta_2) g^2,\; "
            r"\theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat s} + \epsilon}",
    "rmsprop": r"s \leftarrow \alpha s + (1-\alpha) g^2, \qquad \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \epsilon}",
    "adagrad": r"s \leftarrow s + g^2, \qquad \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \epsilon}",
}


def live_trainer(problem: state.Problem, config) -> tuple[Trainer, str, int]:
    """The object behind whatever the user did last with these settings: the Step page's trainer (the
    very object being stepped), or the last Train run's model; else a fresh trainer at its starting point."""
    rec = ss.get("stepper")
    stepper = rec if rec is not None and rec.key == problem.key and rec.config == config else None
    run = ss.run if state.run_matches(problem) else None
    if run is not None and (run.config != config or run.running):
        run = None
    if stepper is not None and (run is None or stepper.touched >= run.started):
        tr = stepper.trainer
        return tr, f"the Step page's trainer, after {tr.epoch:,} epoch(s)", tr.epoch
    if run is not None:
        # The last Train run's model: its parameters, loaded into a trainer with the same settings.
        key = (problem.key, config, id(run), run.epochs_run)
        built = replace(config, init_weight=list(run.coef), init_bias=run.intercept)
        which = (f"your last Train run's model, after {run.epochs_run:,} epochs (with a fresh optimizer; "
                 "the Step page keeps one across steps)")
        done = run.epochs_run
    else:
        key, built, done = (problem.key, config, None, 0), config, 0
        which = "a fresh trainer with your settings, at its starting point (press Train or Step to move it)"
    cached = ss.get("_hiw_trainer")
    if cached is None or cached[0] != key:
        cached = ss._hiw_trainer = (key, Trainer(problem.design, built, problem.validation))
    return cached[1], which, done


def step(n: int, title: str, where: str, page: str, icon: str):
    box = st.container(border=True)
    box.subheader(f"{n}. {title}")
    box.page_link(page, label=where, icon=icon)
    return box


st.title("How it works", anchor=False)
st.write("The studio runs the classic PyTorch linear-regression tutorial — with your data and your settings — and "
         "puts the exact answer beside it. Each step below shows the tutorial's code, the equation, and the object "
         "the studio is using for it right now.")

try:
    problem = state.current_problem(trainable=True)
    config = state.train_config()
    trainer, which, epochs_done = live_trainer(problem, config)
except LinregError as exc:
    st.error(f"The live objects can't be built from the current data or settings: {md(exc, 2000)}")
    st.page_link("app_pages/data.py", label="Fix the data on the Data page", icon=":material/table:")
    st.stop()

design, exact = problem.design, problem.exact
theta = trainer.trained_params()
loss_now, grad_now = trainer.objective()
names = trainer.param_names
icpt = design.fit_intercept
std = config.standardize
st.info(f"Live objects below: {which}." + (" Standardization is on, so the model's parameters are in standardized "
                                           "units; the Results page reports them in the data's units." if std else ""))

with step(1, "Data as tensors", "Change the data on the Data page", "app_pages/data.py", ":material/table:"):
    st.write(f"Each row is a point. The current dataset, **{md(ss.ds_name)}**, gives {design.n_samples:,} rows of "
             f"{len(design.terms)} input column(s) ({md_list(design.terms)}) and the target **{md(design.target)}**.")
    st.code("x_train = torch.tensor([[1.0], [2.0], [3.0], [3.5]])\ny_train = torch.tensor([[2.0], [4.0], [6.0], [7.0]])",
            language="python")
    rows = charts.drawn(design)  # a server dataset's rows stay on the cluster: its sample's first rows
    head = min(4, rows.n_samples)
    st.caption("Live: the first rows of yours, as the trainer sees them" + (" (standardized)" if std else ""))
    z = (rows.X[:head] - trainer.scaling.mean) / trainer.scaling.scale
    st.code(f"x = {torch.tensor(z, dtype=torch.float32)!r}\ny = {torch.tensor(rows.y[:head, None], dtype=torch.float32)!r}",
            language="python")
    st.latex(r"X \in \mathbb{R}^{" + f"{design.n_samples}" + r" \times " + f"{len(design.terms)}" + r"}, \quad y \in "
             r"\mathbb{R}^{" + f"{design.n_samples}" + "}")

with step(2, "The model: nn.Linear", "Watch it move on the Step page", "app_pages/step.py", ":material/step:"):
    bias_arg = "" if icpt else ", bias=False"
    st.write(f"A linear model is a weighted sum of the inputs{' plus a bias' if icpt else ''} — exactly what "
             f"`nn.Linear(k, 1{bias_arg})` computes.")
    st.code("class LinearRegression(nn.Module):\n    def __init__(self, k):\n        super().__init__()\n"
            f"        self.linear = nn.Linear(k, 1{bias_arg})\n\n    def forward(self, x):\n        return self.linear(x)",
            language="python")
    st.caption("Live: the model object and its parameters now")
    params = "\n".join(f"{n}: [{', '.join(f'{v:.6g}' for v in p.detach().cpu().reshape(-1).tolist())}]"
                       for n, p in trainer.model.named_parameters())
    st.code(f"{trainer.model!r}\n{params}", language="text")
    b0 = theta[0] if icpt else None
    st.latex(r"\hat{y} = X w" + (" + b" if icpt else "") + r" \quad\Rightarrow\quad " + equation(design.target, b0, theta[-len(design.terms):],
                                                                   design.terms, 4))

with step(3, "The loss: nn.MSELoss", "See it fall on the Train page", "app_pages/train.py", ":material/model_training:"):
    st.code("criterion = nn.MSELoss()\nloss = criterion(model(x_train), y_train)", language="python")
    st.caption(f"Live: {trainer.loss_fn!r} on your {design.n_samples:,} rows, at the parameters above"
               + (f", plus the L2 term {config.l2:g}·‖w‖²" if config.l2 > 0 else ""))
    st.latex(f"L({'w, b' if icpt else 'w'})" + r" = \frac{1}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)^2" + (r" + \lambda \lVert w \rVert^2" if config.l2 > 0
                                                                           else "") + f" = {num(loss_now, 6)}")

with step(4, "The optimizer", "Choose it and its learning rate on the Train page", "app_pages/train.py", ":material/tune:"):
    st.code("optimizer = " + OPT_CODE[config.optimizer].format(lr=config.lr, m=config.momentum), language="python")
    st.caption("Live: the torch.optim object with your settings")
    st.code(repr(trainer.optimizer), language="text")
    st.latex(UPDATE[config.optimizer] + rf", \qquad \eta = {num(config.lr)}")
    st.page_link("app_pages/race.py", label="Compare optimizers on this data in a race", icon=":material/sports_score:")

with step(5, "Gradient: loss.backward()", "Inspect each gradient on the Step page", "app_pages/step.py", ":material/step:"):
    st.write("`loss.backward()` fills each parameter's `.grad` with the slope of the loss along it:")
    st.latex(r"\nabla_w L = \frac{2}{n} X^\top (\hat{y} - y)" + (r", \qquad \frac{\partial L}{\partial b} = "
                                                                 r"\frac{2}{n} \sum_i (\hat{y}_i - y_i)" if icpt else ""))
    st.caption("Live: the full-batch gradient at the parameters above")
    st.latex(r"\nabla_\theta L = " + column(grad_now) + r"\quad \text{for } (" + ", ".join(map(name, names)) + ")")
    if config.optimizer == "sgd":
        nxt = theta - config.lr * grad_now
        st.caption("So plain SGD's next step moves the parameters to")
        st.latex(r"\theta - \eta \nabla_\theta L = " + column(nxt))

with step(6, "The training loop", "Run it on the Train page", "app_pages/train.py", ":material/model_training:"):
    batch = "every row each step (full batch)" if config.batch_size == 0 else f"mini-batches of {config.batch_size:,} rows"
    st.code(f"for epoch in range(1, {config.epochs} + 1):\n    optimizer.zero_grad()\n    loss = criterion(model(x_train), y_train)\n"
            "    loss.backward()\n    optimizer.step()\n    print(f'epoch {epoch}, loss {loss.item()}')", language="python")
    st.write(f"Your loop: **{config.epochs:,}** epochs over {batch}; **{epochs_done:,}** have run so far. "
             "Each epoch records the loss before its update — the tutorial's printout, and the curve on the Train page.")
    # The printout of what the live model went through: the Step page's epochs, or the last Train run's.
    stepped = which.startswith("the Step page")
    run = ss.run if state.run_matches(problem) else None
    h = trainer.history if stepped else (run.history if run and epochs_done else [])
    if h:
        # Epochs count from 1, as on the loss chart and in the command line's printout.
        lines = [f"epoch {k + 1}, loss {h[k]:.6g}" for k in range(min(3, len(h)))]
        if len(h) > 3:
            lines += ["...", f"epoch {len(h)}, loss {h[-1]:.6g}"]
        st.caption("Live: the printout of " + ("the Step page's epochs" if stepped else "your last run"))
        st.code("\n".join(lines), language="text")

with step(7, "The answer, checked", "See the statistics on the Results page", "app_pages/results.py", ":material/analytics:"):
    st.write("Least squares has a closed form. The studio solves it with a pivoted QR factorization of the "
             "column-scaled design (safer than the textbook normal equations) — the dashed line training heads for.")
    st.latex(r"\hat{\beta} = \arg\min_\beta \lVert y - A\beta \rVert^2, \quad A = " + (r"[\mathbf{1}, X]" if icpt else "X")
             + r" = QR \;\Rightarrow\; "
             r"R \hat\beta = Q^\top y")
    st.caption("Live: the exact parameters for your data, in its units")
    # The same numbers as on Results: below the data's rounding level they read as 0 (studio/numbers.py).
    st.latex(numbers.exact_equation(design, problem.stats) + rf", \quad \mathrm{{MSE}} = "
             f"{num(numbers.loss(problem.stats, problem.stats.mse))}")
    b_now, w_now = trainer.params()
    gap = state.gap((b_now, w_now.tolist()), exact)
    st.write(f"The live model is **{gap:.3g}** away from it (largest parameter difference)."
             + (f" With an L2 penalty of {config.l2:g}, training heads for the ridge optimum instead, which "
                "shrinks the weights towards zero." if config.l2 > 0 else ""))
