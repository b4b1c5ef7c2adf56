"""The command line's ``anova`` command: one formula's ANOVA table, or the F tests between nested formulas
(linreg_core._anova), printed as a table or one JSON object. Standard library only at load time, as the rest of the
command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .errors import ParameterError

__all__: list[str] = []  # the command line's own (linreg_core._cli)


def add_parser(sub: Any) -> None:
    a = sub.add_parser("anova", help="analysis of variance of a formula, or F tests between nested formulas",
                       description="With one --formula: its ANOVA table of type I (sequential, default), II or III, as "
                                   "statsmodels' anova_lm(res, typ=...). With several, smallest first: the F tests "
                                   "between the nested models, as anova_lm(m1, m2, ...).")
    a.add_argument("data", help="a CSV file, or - to read CSV from stdin")
    a.add_argument("--formula", action="append", required=True, metavar="'Y ~ TERMS'",
                   help="a Wilkinson formula; repeat for nested models, smallest first")
    a.add_argument("--typ", type=int, choices=(1, 2, 3), default=1, help="sums of squares of one model: type I "
                   "(each term after those before it), II (after all others but its interactions) or III (after all)")
    a.add_argument("--na", choices=("error", "drop"), default="error", help="rows with a blank cell: as for 'fit'")
    a.add_argument("--weights", metavar="COL", help="weighted least squares, as for 'fit'")
    a.add_argument("--json", action="store_true", help="print one JSON object: {\"anova\": [rows]}")


def run(args: argparse.Namespace) -> int:
    from ._anova import anova, compare_models
    from ._csv import read_csv
    from ._design import with_weights
    from ._export import json_safe
    from ._formula import build_formula_design

    table = read_csv(args.data)
    designs = [build_formula_design(table, f, na=args.na) for f in args.formula]
    if args.weights is not None:
        designs = [with_weights(d, table, args.weights) for d in designs]
    if len(designs) > 1:
        if args.typ != 1:
            raise ParameterError("Comparing models is one F test per step, not a type II or III table; drop --typ.")
        result = compare_models(designs)
    else:
        result = anova(designs[0], args.typ)
    if args.json:
        print(json.dumps(json_safe({"typ": result.typ, "formulas": [d.model_formula for d in designs],
                                    "n_samples": designs[0].n_samples, "anova": result.rows()}), allow_nan=False))
    else:
        what = (f"Type {'I' * result.typ} ANOVA of {designs[0].model_formula}" if result.typ else
                "F tests between nested models (each against the one before it)")
        print(f"{what} (n={designs[0].n_samples:,}{', weighted' if args.weights else ''}):\n{result.text()}")
    return 0
