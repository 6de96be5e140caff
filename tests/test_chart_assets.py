"""Charts on pages work offline: the Vega bundle is the app's own and specs are embedded safely."""
import json

import pandas as pd
import pytest

from analysis import charts
from survey.charts import BUNDLE_PATH, build_bundle, spec_json, static_svg


@pytest.fixture
def chart():
    return charts.scale_dumbbell(pd.DataFrame({
        "construct_label": ["</script><script>alert(1)</script>"] * 2,
        "wave_label": ["Before", "After"], "mean": [3.4, 2.9], "ci_low": [3.2, 2.7],
        "ci_high": [3.6, 3.1]}))


def test_embedded_spec_cannot_close_its_script_tag(chart):
    text = str(spec_json(chart))
    assert "</" not in text and "<script" not in text
    assert json.loads(text)["datasets"]  # still the same JSON


def test_server_drawn_svg_escapes_text(chart):
    svg = str(static_svg(chart))
    assert svg.startswith("<svg") and "<script" not in svg and "&lt;/script&gt;" in svg


def test_the_bundle_is_served_by_the_app(client):
    with client.get("/static/vendor/vega-bundle.js") as reply:
        assert reply.status_code == 200
        assert "javascript" in reply.mimetype
        assert b"window.vegaEmbed=" in reply.data


@pytest.mark.slow
def test_the_vendored_bundle_matches_the_installed_vega_lite():
    """Fails when Altair or vl-convert is upgraded: run `flask charts-bundle` and commit."""
    assert BUNDLE_PATH.read_text() == build_bundle()
