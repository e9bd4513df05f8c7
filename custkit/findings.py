"""Plain-language findings: what a report section concludes and what to do about it.

Compute functions return :class:`Finding` objects built from the numbers; the report layer only
displays them. Nothing a manager reads as a conclusion is typed into a notebook by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["good", "info", "warning", "bad"]


@dataclass(frozen=True)
class Finding:
    """One section's conclusion and recommended action.

    Attributes
    ----------
    title : str
        Section name, e.g. ``"Base health"``.
    conclusion : str
        One sentence with the key number(s), e.g. ``"The base lost 18% of its buyers in a year."``.
    action : str
        One sentence saying what to do.
    level : {"good", "info", "warning", "bad"}
        How the conclusion compares with the norm; drives the colour in the HTML.
    """

    title: str
    conclusion: str
    action: str
    level: Level = "info"
