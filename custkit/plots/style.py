"""How custkit's figures treat text: a store's labels are drawn as written.

Matplotlib reads any text with two ``$`` signs as TeX (mathtext): an acquisition channel called
``Promo $\\frac$`` stops a report with a parse error, and ``$5 off, $10 back`` is drawn as math
in italics. Escaping ``$`` in every label a store provides would have to be remembered at each of
the many places figures take names from data (tick labels, legends, titles, notes), and the
escaped text is what the figure's Text objects would then hold. Instead, every custkit figure is
built and drawn with mathtext off (``text.parse_math``), which matplotlib offers for exactly this:

- :func:`draws_text_as_written` builds a plotting function's figure with mathtext off, so every
  Text it creates reads its text literally;
- :class:`ReportFigure` draws with mathtext off, so tick labels matplotlib creates while drawing
  are literal too.

A deliberate formula in custkit's own labels still works: pass ``parse_math=True`` to that text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import matplotlib as mpl
from matplotlib.figure import Figure

#: The rcParams every custkit figure is built and drawn with.
REPORT_RC = {"text.parse_math": False}

P = ParamSpec("P")
F = TypeVar("F", bound=Figure)


class ReportFigure(Figure):
    """A figure whose texts are drawn as written (see the module docstring)."""

    def draw(self, renderer) -> None:
        with mpl.rc_context(REPORT_RC):
            super().draw(renderer)


def draws_text_as_written(plot: Callable[P, F]) -> Callable[P, F]:
    """Decorate a plotting function: its figure's texts are built with mathtext off."""

    @functools.wraps(plot)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> F:
        with mpl.rc_context(REPORT_RC):
            return plot(*args, **kwargs)

    return wrapper
