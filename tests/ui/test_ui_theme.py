"""The dashboard's colours: every text colour readable (WCAG AA, 4.5:1) on its theme's
background, and one stylesheet switching them with the page's theme."""

from __future__ import annotations

import pytest

from sm_notebook.ui import theme


@pytest.mark.parametrize(("palette", "background"), [
    (theme.LIGHT_SOURCES, theme.LIGHT_BACKGROUND), (theme.DARK_SOURCES, theme.DARK_BACKGROUND)],
    ids=["light", "dark"])
def test_every_host_colour_reads_as_text_on_its_theme_s_background(palette, background):
    assert len(palette) == len(set(palette)) == 10
    assert min(theme.contrast(c, background) for c in palette) >= 4.5


@pytest.mark.parametrize("tone", sorted(theme.TONES))
def test_every_text_tone_reads_in_both_themes(tone):
    light, dark = theme.TONES[tone]
    assert theme.contrast(light, theme.LIGHT_BACKGROUND) >= 4.5
    assert theme.contrast(dark, theme.DARK_BACKGROUND) >= 4.5


def test_the_muted_grey_of_old_fails_on_dark_which_is_why_there_are_two():
    assert theme.contrast("#57606a", theme.DARK_BACKGROUND) < 3  # the 2.96:1
    assert round(theme.contrast("#000000", "#ffffff"), 2) == 21.0


def test_the_stylesheet_gives_each_class_its_light_and_dark_colour():
    css = theme.stylesheet()
    assert css.startswith("<style>") and css.endswith("</style>")
    assert ".smnb-muted{color:var(--smnb-muted)}" in css
    light, dark = css.removeprefix("<style>body{").split("}", 2)[:2]
    # JupyterLab's secondary text colour first, ours where the page has none (VS Code)
    assert "--smnb-muted:var(--jp-ui-font-color2,#57606a)" in light
    assert "--smnb-src-1:#bc4c00" in light
    assert dark.startswith(",".join(theme.DARK_SELECTORS) + "{")
    assert "--smnb-muted:var(--jp-ui-font-color2,#9ea7b3)" in dark
    assert "--smnb-src-1:#f0883e" in dark
    assert len(css) < 3_000  # it goes into every saved output
    assert theme.source_class(12) == "smnb-src-2"  # the colours repeat after ten hosts
    assert theme.source_colour(12, dark=True) == theme.DARK_SOURCES[2]


def test_a_job_s_dashboard_hides_the_notes_saved_while_it_ran():
    assert theme.hide_saved_note("my-job") == "<style>.smnb-saved-my-job{display:none}</style>"


def test_the_charts_are_told_from_others_by_their_smoothing_button():
    from sm_notebook.runtime.metric_rules import MetricPoint
    from sm_notebook.ui import plotly_figure
    from sm_notebook.ui.chart_model import chart
    from sm_notebook.ui.series import traces

    model = chart(traces([MetricPoint(0.0, "algo-1", "loss", 1.0, 1.0)]))
    labels = [b["label"] for menu in plotly_figure.menus(model, False, False)
              for b in menu["buttons"]]
    assert any(label.startswith("smoothed ") for label in labels)
    assert 'text[data-unformatted^="smoothed "]' in theme.CHART
    assert theme.CHART_RULES in theme.stylesheet()
    light_ink, dark_ink = theme.CHART_COLOURS["smnb-chart-ink"]
    assert theme.contrast(light_ink, theme.LIGHT_BACKGROUND) >= 4.5
    assert theme.contrast(dark_ink, theme.DARK_BACKGROUND) >= 4.5
