"""How an epoch computes its gradient: autograd over the rows (the tutorial's loop, and mini-batches), or the sufficient
statistics (XᵀX, Xᵀy) for full batch at a cost that does not grow with the rows. The trainer's loop is shared."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.linalg as sla
import torch
from torch import nn

from ._design import Design
from ._model import LinearModel
from ._scaling import _Scaling, scaled_R
from .errors import ParameterError


def build_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float, momentum: float = 0.9,
                    foreach: bool | None = None) -> torch.optim.Optimizer:
    """The torch.optim optimizer for one of :data:`OPTIMIZERS` (``foreach=False`` suits tiny CPU tensors)."""
    kw = {"lr": lr, "foreach": foreach}
    if name == "sgd":
        return torch.optim.SGD(params, **kw)
    if name == "momentum":
        return torch.optim.SGD(params, momentum=momentum, **kw)
    if name == "adam":
        return torch.optim.Adam(params, **kw)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, **kw)
    if name == "adagrad":
        return torch.optim.Adagrad(params, **kw)
    raise ParameterError(f"Unknown optimizer {name!r}.")


def _finite_params(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


class _Engine:
    """One way of computing the loss and stepping the optimizer; the loop around it is shared."""

    name = ""
    model: LinearModel

    def snapshot(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.model.parameters()]

    def restore(self, state: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, saved in zip(self.model.parameters(), state):
                p.copy_(saved)

    def loss(self) -> float:  # full batch: the loss before this epoch's update
        raise NotImplementedError

    def step(self, optimizer: torch.optim.Optimizer) -> None:  # full batch: apply the update
        raise NotImplementedError

    def start_epoch(self, perm: torch.Tensor) -> None:  # mini-batch: this epoch's row order
        raise NotImplementedError

    def batch_step(self, optimizer: torch.optim.Optimizer, start: int, stop: int) -> torch.Tensor:
        raise NotImplementedError


class _AutogradStep(_Engine):
    """The tutorial's loop, kept as the reference: forward, nn.MSELoss, backward, step."""

    name = "autograd"

    def __init__(self, design: Design, scaling: _Scaling, model: LinearModel, l2: float, dtype: torch.dtype,
                 device: torch.device) -> None:
        Z = (design.X - scaling.mean) / scaling.scale
        self.X = torch.as_tensor(Z, dtype=dtype, device=device)  # resident on the device for the whole run
        self.y = torch.as_tensor(design.y, dtype=dtype, device=device).reshape(-1, 1)
        self.model, self.l2 = model, l2
        self.loss_fn = nn.MSELoss()
        self._pending: torch.Tensor | None = None
        self._perm: torch.Tensor | None = None

    def _objective(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.loss_fn(self.model(X), y)
        if self.l2 > 0:
            loss = loss + self.l2 * self.model.linear.weight.pow(2).sum()
        return loss

    def loss(self) -> float:
        self._pending = self._objective(self.X, self.y)
        return self._pending.item()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad()
        self._pending.backward()
        optimizer.step()

    def start_epoch(self, perm: torch.Tensor) -> None:
        self._perm = perm

    def batch_step(self, optimizer: torch.optim.Optimizer, start: int, stop: int) -> torch.Tensor:
        idx = self._perm[start:stop]
        loss = self._objective(self.X[idx], self.y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach().to(torch.float64)


class _DirectMinibatch(_AutogradStep):
    """Mini-batches without autograd's graph: the MSE gradient in closed form on contiguous slices.

    Each epoch gathers the rows once in permuted order, so a batch is a view, not a gather; the
    gradient 2·Xbᵀ(Xb·w + b − yb)/B is the one autograd computes, in the parameters' dtype.
    """

    name = "direct"

    def start_epoch(self, perm: torch.Tensor) -> None:
        self._Xp = self.X.index_select(0, perm)
        self._yp = self.y.index_select(0, perm)

    def batch_step(self, optimizer: torch.optim.Optimizer, start: int, stop: int) -> torch.Tensor:
        lin = self.model.linear
        Xb, yb = self._Xp[start:stop], self._yp[start:stop]
        with torch.no_grad():
            r = torch.addmm(lin.bias, Xb, lin.weight.t()) if lin.bias is not None else Xb @ lin.weight.t()
            r -= yb
            loss = (r * r).mean()
            scale = 2.0 / (stop - start)
            gw = (r.t() @ Xb).mul_(scale)
            if self.l2 > 0:
                loss = loss + self.l2 * lin.weight.pow(2).sum()
                gw += 2.0 * self.l2 * lin.weight
            lin.weight.grad = gw
            if lin.bias is not None:
                lin.bias.grad = r.sum(0).mul_(scale)
        optimizer.step()
        return loss.to(torch.float64)


class _StatsStep(_Engine):
    """Full-batch loss and gradient from the R factor of [A | y] (see _moments): O(p²) per epoch.

    With d = θ − θ*, loss = (ρ² + ‖R d‖²)/N and ∇ = 2 Rᵀ R d / N, in float64. The optimizer still steps
    the nn.Linear parameters, so any torch.optim optimizer behaves as in the autograd loop. On the CPU
    the p-sized arithmetic runs in numpy on views of the parameters (a torch op costs ~5 µs here,
    a numpy one ~1 µs); elsewhere it runs in torch on the device.
    """

    name = "stats"

    def __init__(self, R: np.ndarray, theta_star: np.ndarray, rho2: float, n: int, model: LinearModel, l2: float,
                 device: torch.device) -> None:
        self.model, self.l2, self.n, self.rho2 = model, l2, n, rho2
        self.weight, self.bias = model.linear.weight, model.linear.bias
        self.params = [self.bias, self.weight] if self.bias is not None else [self.weight]
        self.off = 1 if self.bias is not None else 0
        self.cpu = device.type == "cpu"
        for p in self.params:
            p.grad = torch.zeros_like(p)
        if self.cpu:
            self.R, self.theta_star = R, theta_star
            self._views = [p.detach().numpy().reshape(-1) for p in self.params]  # live views of the parameters
            self._grads = [p.grad.numpy().reshape(-1) for p in self.params]
            self.RT = np.ascontiguousarray(R.T)
            self._buf = tuple(np.empty(R.shape[0]) for _ in range(4))  # theta, d, r, grad
        else:
            f64 = dict(dtype=torch.float64, device=device)
            self.R, self.theta_star = torch.as_tensor(R, **f64), torch.as_tensor(theta_star, **f64)
        self._grad = None

    @classmethod
    def create(cls, design: Design, scaling: _Scaling, model: LinearModel, l2: float,
               device: torch.device) -> _StatsStep | None:
        """None when the design is rank deficient (θ* is not unique): the caller falls back to autograd."""
        m = design.moments()
        p = m.p
        Rz = scaled_R(design, scaling)
        R = Rz[:-1, :-1]
        diag = np.abs(np.diag(R))
        if p == 0 or not np.all(np.isfinite(Rz)) or diag.min() <= max(m.n, p) * np.finfo(float).eps * diag.max():
            return None
        theta = sla.solve_triangular(R, Rz[:-1, -1])
        return cls(np.ascontiguousarray(R), theta, float(Rz[-1, -1] ** 2), m.n, model, l2, device)

    def snapshot(self) -> list:
        if self.cpu:
            return [v.copy() for v in self._views]
        return super().snapshot()

    def restore(self, state: list) -> None:
        if self.cpu:
            for v, saved in zip(self._views, state):
                v[...] = saved
        else:
            super().restore(state)

    def loss(self) -> float:
        if self.cpu:  # preallocated buffers: at p = 2 each numpy call is ~1 µs of overhead, so count them
            theta, d, r, grad = self._buf
            if self.off:
                theta[0] = self._views[0][0]
            theta[self.off:] = self._views[-1]
            np.subtract(theta, self.theta_star, out=d)
            np.dot(self.R, d, out=r)
            np.dot(self.RT, r, out=grad)
            grad *= 2.0 / self.n
            loss = (self.rho2 + float(r.dot(r))) / self.n
            if self.l2 > 0:
                w = theta[self.off:]
                loss += self.l2 * float(w @ w)
                grad[self.off:] += 2.0 * self.l2 * w
            self._grad = grad
            return loss
        w = self.weight.detach().reshape(-1).to(torch.float64)
        theta = torch.cat([self.bias.detach().to(torch.float64), w]) if self.bias is not None else w
        r = self.R @ (theta - self.theta_star)
        grad = self.R.T @ r * (2.0 / self.n)
        loss = (self.rho2 + r @ r) / self.n
        if self.l2 > 0:
            loss = loss + self.l2 * (w @ w)
            grad[self.off:] += 2.0 * self.l2 * w
        self._grad = grad
        return loss.item()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        g = self._grad
        if self.cpu:
            if self.bias is not None:
                self._grads[0][0] = g[0]
            self._grads[-1][:] = g[self.off:]
        else:
            if self.bias is not None:
                self.bias.grad.copy_(g[:1])
            self.weight.grad.copy_(g[self.off:].reshape(1, -1))
        optimizer.step()
