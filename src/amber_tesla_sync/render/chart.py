"""A compact terminal bar chart: one column per value, eighth-block resolution."""

from __future__ import annotations

from collections.abc import Sequence

_BLOCKS = " ▁▂▃▄▅▆▇█"


def bar_rows(values: Sequence[float], height: int, low: float, high: float) -> list[str]:
    """Bar chart rows, top first: ``low`` gets the smallest visible bar, ``high`` a full one."""
    steps = height * 8 - 1
    span = high - low
    levels = [1 + (round((value - low) / span * steps) if span > 0 else steps) for value in values]
    rows = []
    for row in range(height - 1, -1, -1):
        floor = row * 8
        rows.append("".join(_BLOCKS[min(max(level - floor, 0), 8)] for level in levels))
    return rows


def axis_labels(labels: Sequence[str], every: int) -> str:
    """An x axis under a chart: ``labels[i]`` written at every ``every``-th column."""
    line = [" "] * len(labels)
    for index in range(0, len(labels), every):
        text = labels[index]
        if index + len(text) <= len(line):
            line[index : index + len(text)] = list(text)
    return "".join(line)


def chart(
    title: str, values: Sequence[float], x_labels: Sequence[str], height: int = 5
) -> list[str]:
    """A titled bar chart with a y scale and an x axis, as plain lines."""
    high, low = max(values, default=0.0), min(values, default=0.0)
    rows = bar_rows(values, height, low, high)
    scale = [f"{high:7.2f} ┤", *(["        │"] * (height - 2)), f"{low:7.2f} ┤"]
    lines = [title]
    lines.extend(f"{label}{row}" for label, row in zip(scale, rows, strict=True))
    lines.append("         " + axis_labels(x_labels, 4))
    return lines
