"""The training settings: one record that the sidebar, share links, lessons, re-opened runs and the trainer read.

A setting is one field of :class:`Settings`: its default (the library's, :class:`~linreg_core.TrainConfig`, where the
library has the setting), its widget's label and help, a number's bounds and precision, its place in the sidebar and
its share-link parameter. To add one, add a field here: the sidebar draws it (``studio.controls.setting_widget``), share
links carry it, re-opening a run restores it, and :meth:`Settings.to_config` hands it to the trainer when
:class:`~linreg_core.TrainConfig` has a field of that name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from linreg_core import OPTIMIZERS, TrainConfig

from .fields import Field
from .labels import OPTIMIZER_LABELS

__all__ = ["ADVANCED", "MAIN", "VALIDATION", "Settings", "Spec", "in_group", "names", "spec"]

_TUTORIAL = TrainConfig()  # the library's defaults are the tutorial's: SGD, lr 0.01, 100 full-batch epochs, float32
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}

MAIN, ADVANCED, VALIDATION = "main", "Advanced", "Validation and model"  # where the sidebar draws a setting


@dataclass(frozen=True)
class Spec:
    """What the page and share links know of one setting."""

    label: str  # the widget's label
    group: str = MAIN
    help: str | None = None
    share: str | None = None  # its share-link parameter (None: links do not carry it)
    field: Field | None = None  # a number's bounds and display precision (what a link or a typed value may be)
    choices: tuple[str, ...] = ()  # a choice's options ((): the page supplies them, as for the device)
    names: dict[str, str] | None = None  # how the options read
    shown_if: str | None = None  # drawn, and carried by links, only while this on/off setting is on


def setting(default: Any, label: str, *, short: str | None = None, lo: float | None = None, hi: float | None = None,
            integer: bool = False, fmt: str | None = None, step: float | None = None, on_steps: bool = False,
            **spec: Any) -> Any:
    """A :class:`Settings` field: its default and its :class:`Spec`. A number gives its bounds ``lo``..``hi`` (and
    ``integer``, ``fmt``, ``step``, ``on_steps``, as :class:`~studio.fields.Field`); ``short``: its name in messages,
    when the label says more."""
    if lo is not None:
        spec["field"] = Field(short or label, lo, hi, integer=integer, fmt=fmt, step=step, on_steps=on_steps)
    return dataclasses.field(default=default, metadata={"spec": Spec(label, **spec)})


@dataclass
class Settings:
    """What the next run trains with. The session holds one (``st.session_state.settings``); each widget writes its
    field as it changes (``studio.controls.bind_setting``)."""

    device: str = setting(_TUTORIAL.device, "Device", group=ADVANCED,
                          help="Only devices PyTorch can use on this server are listed.")
    optimizer: str = setting(_TUTORIAL.optimizer, "Optimizer", share="opt", choices=OPTIMIZERS, names=OPTIMIZER_LABELS)
    lr: float = setting(_TUTORIAL.lr, "Learning rate", share="lr", lo=1e-9, hi=1e3, fmt="%.6g",
                        help="Type any value; the slider above shows it too.")
    epochs: int = setting(_TUTORIAL.epochs, "Epochs", share="epochs", lo=1, hi=1_000_000, integer=True, step=100)
    batch_size: int = setting(_TUTORIAL.batch_size, "Batch size (0 = all rows)", short="Batch size", share="batch",
                              lo=0, hi=10_000_000, integer=True,
                              help="Rows per step (a mini-batch). 0 uses every row each step (full batch), as the tutorial does.")
    standardize: bool = setting(_TUTORIAL.standardize, "Standardize features", share="std",
                                help="Train on (x − mean) / std; coefficients are reported in the original units.")
    seed: int = setting(_TUTORIAL.seed, "Seed", group=ADVANCED, share="seed", lo=0, hi=2**31 - 1, integer=True,
                        help="Seeds the initial weights and the mini-batch shuffling.")
    dtype: str = setting(_TUTORIAL.dtype, "Precision", group=ADVANCED, share="dtype", choices=("float32", "float64"))
    momentum: float = setting(_TUTORIAL.momentum, "Momentum (SGD + momentum)", short="Momentum", group=ADVANCED,
                              share="mom", lo=0.0, hi=0.999, fmt="%.3f", step=0.05)
    engine: str = setting(_TUTORIAL.engine, "Engine", group=ADVANCED, share="engine", choices=("auto", "stats", "autograd"),
                          names={"auto": "auto", "stats": "sufficient statistics", "autograd": "autograd"},
                          help="How each epoch's gradient is computed. Full batch, the sufficient statistics (XᵀX, Xᵀy) "
                               "give the same steps as autograd (nn.Module, loss.backward()) at a cost that does not "
                               "grow with the rows; auto uses them for full batch. Mini-batches always use autograd.")
    tol: float = setting(0.0, "Stop when loss changes less than (relative, 0 = off)",  # 0 here is TrainConfig's None
                         short="Stop when loss changes less than", group=ADVANCED, lo=0.0, hi=1.0, fmt="%.2g")
    validation: bool = setting(False, "Hold out a validation set", group=VALIDATION, share="val",
                               help="Train on part of the rows and draw the MSE on the rest each epoch: a validation "
                                    "curve that rises while the training loss falls is over-fitting.")
    val_frac: float = setting(0.2, "Validation share", group=VALIDATION, share="vfrac", shown_if="validation",
                              lo=0.05, hi=0.5, fmt="%.2f", step=0.05, on_steps=True)
    val_seed: int = setting(0, "Split seed", group=VALIDATION, share="vseed", shown_if="validation",
                            lo=0, hi=2**31 - 1, integer=True,
                            help="Which rows are held out; the same seed gives the same split.")
    l2: float = setting(_TUTORIAL.l2, "L2 penalty", group=VALIDATION, share="l2", lo=0.0, hi=1e6, fmt="%.6g", step=0.01,
                        help="Adds l2·‖w‖² to the loss (ridge): smaller weights, a smoother fit.")

    def to_config(self) -> TrainConfig:
        """The trainer's configuration: every setting TrainConfig has a field for (a tolerance of 0 is none)."""
        values = {name: getattr(self, name) for name in names() if name in _TRAIN_FIELDS}
        values["tol"] = self.tol if self.tol > 0 else None
        return TrainConfig(**values)

    def with_config(self, config: TrainConfig) -> Settings:
        """These settings with ``config``'s training values (re-opening a run); the others stay."""
        values = {name: getattr(config, name) for name in names() if name in _TRAIN_FIELDS}
        values["tol"] = config.tol or 0.0
        return dataclasses.replace(self, **values)

    def validation_split(self) -> tuple[float, int] | None:
        """(share held out, split seed), or None without a validation set."""
        return (float(self.val_frac), int(self.val_seed)) if self.validation else None


def names() -> list[str]:
    """Every setting's name, in the sidebar's order."""
    return list(_SPECS)


def spec(name: str) -> Spec:
    return _SPECS[name]


def in_group(group: str) -> list[str]:
    """The settings the sidebar draws under ``group``, in order."""
    return [name for name, s in _SPECS.items() if s.group == group]


_SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in dataclasses.fields(Settings)}
