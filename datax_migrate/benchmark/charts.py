"""The report's charts, drawn with matplotlib as inline SVG: per-query medians of both sides, and the ratios."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datax_migrate.benchmark.model import QueryOutcome
from datax_migrate.errors import missing_extra

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SOURCE_COLOUR, TARGET_COLOUR = "#4c72b0", "#dd8452"
FASTER, SLOWER, DIFFERS = "#55a868", "#c44e52", "#8c1c13"


@dataclass(frozen=True)
class Charts:
    """Both charts as SVG documents (no XML prolog: ready to inline in HTML)."""

    medians_svg: str
    ratios_svg: str


def render_charts(queries: Sequence[QueryOutcome]) -> Charts:
    """Draw the bar chart of per-query medians (both sides) and the chart of ratios target/source.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib import figure
    except ImportError:
        raise missing_extra("matplotlib", "benchmark", "the benchmark charts") from None
    names = [query.name for query in queries]
    width = max(6.0, 0.42 * len(names) + 2.0)
    medians = figure.Figure(figsize=(width, 3.4))
    axes = medians.subplots()
    positions = range(len(names))
    axes.bar(
        [p - 0.2 for p in positions],
        [q.source.median_s for q in queries],
        0.4,
        label="Delta (source)",
        color=SOURCE_COLOUR,
    )
    axes.bar(
        [p + 0.2 for p in positions],
        [q.target.median_s for q in queries],
        0.4,
        label="Iceberg (target)",
        color=TARGET_COLOUR,
    )
    axes.set_ylabel("median seconds")
    axes.set_title("Median query time per query")
    _label_queries(axes, names)
    axes.legend(frameon=False)
    ratios = figure.Figure(figsize=(width, 3.0))
    axes = ratios.subplots()
    values = [q.ratio if math.isfinite(q.ratio) else 0.0 for q in queries]
    colours = [DIFFERS if not q.passed else FASTER if q.ratio <= 1 else SLOWER for q in queries]
    axes.bar(list(positions), values, 0.6, color=colours)
    axes.axhline(1.0, color="#333333", linewidth=1, linestyle="--")
    axes.set_ylabel("target / source")
    axes.set_title("Ratio of medians, Iceberg / Delta (below 1: Iceberg faster)")
    _label_queries(axes, names)
    return Charts(_svg(medians), _svg(ratios))


def _label_queries(axes: Axes, names: list[str]) -> None:
    axes.set_xticks(range(len(names)))
    axes.set_xticklabels(names, rotation=60 if len(names) > 12 else 0, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(x=0.01)


def _svg(figure: Figure) -> str:
    width, height = figure.get_size_inches()
    # Fixed margins in inches: tight_layout would draw the figure once more only to measure it.
    figure.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.75 / height, top=1 - 0.4 / height)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
