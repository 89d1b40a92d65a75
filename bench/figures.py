"""One row of `make bench`'s table: a figure, its reference measured in the same run, and its target.

Every benchmark that feeds the table exposes `figures(quick: bool) -> list[Figure]` and measures its
own reference (hello-world, an empty page, a raw insert) in the same run, so a busy machine moves
both sides of the ratio together. `bench/run_all.py` collects them and writes the Markdown table.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str  # what was measured, e.g. "CPU per request, officer's my work"
    measured: float  # in `unit`
    unit: str  # "ms", "KB", "items/s", "×" …
    reference_name: str  # e.g. "Flask hello-world, same gunicorn"
    reference: float  # in `unit`, measured in the same run
    target: str  # as the issue states it, e.g. "≤ 3×"
    ratio: float | None  # measured ÷ reference (or the figure's own ratio), None if not a ratio
    met: bool
    note: str = ""  # the measured cause when a target is missed, or how it was measured

    def row(self) -> str:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}×"
        verdict = "met" if self.met else "**missed**"
        return (f"| {self.name} | {self.measured:,.2f} {self.unit} | {self.reference_name}: "
                f"{self.reference:,.2f} {self.unit} | {ratio} | {self.target} | {verdict} | {self.note} |")


HEADER = ("| figure | measured | reference (same run) | ratio | target | | note |\n"
          "|---|---:|---|---:|---|---|---|")


def table(figures: list[Figure]) -> str:
    return "\n".join([HEADER, *(figure.row() for figure in figures)])


def cli(figures: Callable[[bool], list[Figure]], doc: str, argv: list[str] | None = None) -> int:
    """One benchmark module run on its own: `python -m bench.<module> [--quick]` prints its table."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(table(figures(args.quick)))
    return 0
