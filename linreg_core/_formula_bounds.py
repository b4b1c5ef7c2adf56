"""The limits on what a formula may cost, in one place: the formula's checks (linreg_core._formula_limits), the
checks of its terms' code (linreg_core._formula_safety) and the formula module all read them."""

from __future__ import annotations

from ._design import MAX_DEGREE

# What a formula may cost. Each limit is checked before formulaic does the work it bounds; a formula over one is
# refused in one sentence that names the limit.
MAX_FORMULA_CHARS = 5_000
"""Characters in a formula. formulaic's parse time grows with the square of the number of terms (0.15 s for 1,000
terms, 5,000 characters); the Studio's share links allow 500."""

MAX_MODEL_COLUMNS = 1_000
"""Columns of the model matrix, the intercept included: counted from the terms, ``poly``/``bs`` sizes and the category
levels in the rows before any term is computed, and again while formulaic builds the matrix."""

MAX_DESIGN_BYTES = 2 * 2**30
"""Bytes of the model matrix as float64, rows × columns × 8, whatever memory is free (a matrix that needs more than is
free is refused too, as ``read_csv`` refuses a file). Building one peaks at about four times its size (_BUILD_FACTOR),
so this caps a formula near 8 GB; the 20-million-row, 11-column designs of docs/scaling.md (1.8 GB) fit."""

MAX_EXPANSION = 20_000
"""Products of terms formulaic may form while it multiplies out ``*``, ``:``, ``/`` and ``**``, ~2 µs each: 20,000 is
about 40 ms. It forms them all before it removes repeats: ``(a+…+g)**7`` is 7**7 = 823,543 tuples of 7 terms, 5.8
million products, for 127 distinct terms."""

MAX_INTERACTION = 6
"""Factors in one term (``a:b:c``). formulaic's full-rank coding enumerates and simplifies the 2**k subsets of a term
of k categories: one term of 6 takes 0.07 s, of 8 1.2 s, of 10 55 s."""

MAX_CONSTANT_BITS = 1_000
"""Bits of a whole number computed from constants in a term, such as ``I(2**10)``: larger ones do not fit a float
anyway, and Python computes ``9**9**9`` (1.2 billion bits) for minutes while holding the interpreter's lock."""

MAX_SPLINE_DF = 100
"""Degrees of freedom (basis columns) of ``bs()``, and knots given to it; its degree and ``poly()``'s are at most
``MAX_DEGREE`` (20)."""

_BUILD_FACTOR = 4  # peak memory of building a model matrix over its size (measured 4.1× for a 362 MB one)
_MAX_NESTING = 100  # depth of a term's Python syntax tree; CPython's own parser fails near 200 nested brackets
_MAX_LIST_ITEMS = MAX_MODEL_COLUMNS + 1  # a list of levels, knots or contrasts: one per level at most
_MAX_STATE_ITEMS = MAX_SPLINE_DF + 2 * (MAX_DEGREE + 1)  # values in one list of a saved transform state (bs knots)
