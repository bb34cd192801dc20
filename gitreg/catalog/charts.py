"""A metric across a model's versions, drawn at build time as inline SVG: it renders without JavaScript,
scales to the page's width, prints, and loads nothing. One point per version (``circle.point``), a line
through them, and the versions that hold a stage ringed and labelled with the stage."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 30, 36


def _number(value: float) -> str:
    """A metric value as a label: at most four significant digits, no exponent for everyday sizes."""
    return f"{value:.4g}"


def chart(
    metric: str, points: list[tuple[int, float]], stages: dict[int, list[str]], model: str = ""
) -> Markup:
    """The SVG of ``metric`` over ``points`` ((version, value), oldest first); ``stages``: version ->
    the stages holding it. Text is escaped here: the result is safe to insert as it is."""
    if not points:
        return Markup("")
    values = [v for _, v in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - (abs(low) or 1) * 0.05, high + (abs(high) or 1) * 0.05
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / (len(points) - 1) if len(points) > 1 else 0.0

    def x(index: int) -> float:
        return LEFT + (index * step if len(points) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / (high - low) * plot_h

    title = f"{metric} across the versions of {model}" if model else f"{metric} across versions"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" data-metric="{escape(metric)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{_number(high)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">{_number(low)}</text>',
    ]
    if len(points) > 1:
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        parts.append(f'<polyline class="series" points="{line}"/>')
    label_every = max(1, len(points) // 10)
    for i, (version, value) in enumerate(points):
        cx, cy = x(i), y(value)
        held = stages.get(version, [])
        tip = f"version {version}: {metric} = {value:g}" + (f" ({', '.join(held)})" if held else "")
        if held:
            parts.append(f'<circle class="ring" cx="{cx:.1f}" cy="{cy:.1f}" r="8"/>')
            parts.append(
                f'<text class="stage" x="{cx:.1f}" y="{cy - 12:.1f}" text-anchor="middle">'
                f"{escape(', '.join(held))}</text>"
            )
        css = "point held" if held else "point"
        parts.append(
            f'<circle class="{css}" cx="{cx:.1f}" cy="{cy:.1f}" r="4" data-version="{version}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="tick" x="{cx:.1f}" y="{HEIGHT - 14}" text-anchor="middle">{version}</text>'
            )
    parts.append(
        f'<text class="tick" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 1}" text-anchor="middle">version</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
