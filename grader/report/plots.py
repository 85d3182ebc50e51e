"""The report's plots: matplotlib figures (Agg backend, no pyplot) rendered as SVG to inline in a page."""

from __future__ import annotations

import io
import re

from grader.report.analysis import Distribution

BLUE, ORANGE = "#4c72b0", "#dd8452"


def histogram_svg(dist: Distribution, *, title: str, xlabel: str, size: tuple[float, float] = (7, 3.2)) -> str:
    """A histogram of `dist.scores` over 0..top with the mean as a dashed line, as an <svg> element."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=size, dpi=100)
    axes = figure.subplots()
    top = dist.top or 1.0
    bins = min(20, max(5, int(top)))
    axes.hist(dist.scores, bins=bins, range=(0, top), color=BLUE, edgecolor="white")
    if dist.scores:
        axes.axvline(dist.mean, color=ORANGE, linestyle="--")
    axes.set_xlim(0, top)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _svg(figure, salt=dist.name)


def _svg(figure, salt: str) -> str:
    """The figure as an <svg> element: text kept as text, ids made unique per plot and the same on every run."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)
    # matplotlib names its groups figure_1, axes_1, ... in every plot: drop those ids (nothing refers to them),
    # so that several plots on one page do not repeat an id.
    return re.sub(r'<g id="[^"]*"', "<g", text)
