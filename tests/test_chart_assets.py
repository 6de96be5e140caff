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


def test_a_chart_is_drawn_once_for_the_same_data_and_again_when_it_changes(chart):
    from survey.charts import _drawn
    first = str(static_svg(chart))
    before = _drawn.cache_info()
    assert str(static_svg(chart.to_dict(validate=False))) == first
    assert _drawn.cache_info().hits == before.hits + 1
    changed = chart.to_dict(validate=False)
    changed["title"] = "Another title"
    assert "Another title" in str(static_svg(changed))
    assert _drawn.cache_info().misses == before.misses + 1


def test_static_files_have_content_hashed_addresses_cached_for_a_year(client):
    import hashlib
    import re
    from pathlib import Path
    page = client.get("/privacy").text
    addresses = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert addresses and all("?v=" in a for a in addresses)
    for address in addresses:
        path, digest = address.split("?v=")
        body = (Path(__file__).parent.parent / "survey" / path.lstrip("/")).read_bytes()
        assert digest == hashlib.sha256(body).hexdigest()[:12]
        reply = client.get(address)
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        reply.close()
    # Without the hash, or under an old one, a browser asks again.
    for stale in (path, f"{path}?v=000000000000"):
        reply = client.get(stale)
        assert reply.headers["Cache-Control"] == "no-cache"
        reply.close()


def test_static_files_and_downloads_are_compressed_but_pages_are_not(client):
    import brotli
    with client.get("/static/vendor/vega-bundle.js") as bundle, client.get(
            "/static/vendor/vega-bundle.js", headers={"Accept-Encoding": "br"}) as packed:
        assert packed.headers["Content-Encoding"] == "br"
        assert brotli.decompress(packed.data) == bundle.data
        assert len(packed.data) < len(bundle.data) / 2
    # Pages carry form tokens beside text a visitor types: never compressed (BREACH).
    page = client.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in page.headers
