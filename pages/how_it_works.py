"""How it works: the tutorial's steps, the equations, and where each lives in the studio."""

import streamlit as st

ss = st.session_state
cfg = (ss.get("cfg_optimizer", "sgd"), ss.get("cfg_lr", 0.01), ss.get("cfg_epochs", 100))

st.title("How it works")
st.write("The studio runs the classic PyTorch linear-regression tutorial — with your data and settings — "
         "and puts the exact answer beside it.")

st.subheader("1. Data")
st.write("Each row is a point (x, y). With several features, or a polynomial degree K, the inputs are the "
         "columns of a design matrix X (x, x², …, x^K per feature).")
st.latex(r"X \in \mathbb{R}^{n \times k}, \quad y \in \mathbb{R}^{n}")

st.subheader("2. Model: nn.Linear")
st.write("A linear model is a weighted sum plus a bias — exactly what `nn.Linear(k, 1)` computes.")
st.latex(r"\hat{y} = X w + b")
st.code("class LinearModel(nn.Module):\n    def __init__(self, k):\n        super().__init__()\n"
        "        self.linear = nn.Linear(k, 1)\n    def forward(self, x):\n        return self.linear(x)", language="python")

st.subheader("3. Loss: nn.MSELoss")
st.latex(r"L(w, b) = \frac{1}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)^2")

st.subheader("4. Gradient")
st.write("`loss.backward()` computes the slope of the loss with respect to every parameter:")
st.latex(r"\nabla_w L = \frac{2}{n} X^\top (X w + b - y), \qquad \frac{\partial L}{\partial b} = \frac{2}{n} \sum_i (\hat{y}_i - y_i)")

st.subheader("5. Optimizer step")
st.write(f"`optimizer.step()` moves the parameters against the gradient. Plain SGD, the tutorial's optimizer, "
         f"takes this step with learning rate η (your settings now: **{cfg[0]}**, η = **{cfg[1]:g}**; momentum, "
         "Adam, RMSprop and Adagrad adapt the step using past gradients):")
st.latex(r"w \leftarrow w - \eta \nabla_w L, \qquad b \leftarrow b - \eta \frac{\partial L}{\partial b}")
st.write("Too large an η overshoots and the loss explodes (the studio stops and tells you); too small crawls. "
         "Standardizing the features makes all directions equally steep, so one η suits them all.")

st.subheader("6. The loop")
st.write(f"Repeat steps 3–5 for every epoch (yours: **{cfg[2]:,}**). Each epoch prints `epoch k, loss v` — the "
         "loss before that epoch's update — which is the curve on the Train page.")

st.subheader("7. The exact answer")
st.write("Least squares has a closed form. The studio solves it with a pivoted QR factorization of the column-scaled "
         "design (numerically safer than the textbook normal equations) — the dashed line you train towards.")
st.latex(r"\hat{\beta} = \arg\min_\beta \lVert y - A\beta \rVert^2, \quad A = [\mathbf{1}, X] = QR \;\Rightarrow\; R \hat\beta = Q^\top y")
st.page_link("pages/train.py", label="Try it on the Train page", icon=":material/model_training:")
