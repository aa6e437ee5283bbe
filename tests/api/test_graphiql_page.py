"""The GraphiQL page and the routes serving its fetched assets."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from crmgraph import graphiql
from crmgraph.graphiql import ASSETS, assets_available, graphiql_page, static_routes

FETCH_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch-graphiql.sh"


def _client(static_dir: Path | None = None) -> httpx.AsyncClient:
    # httpx.ASGITransport: starlette's TestClient warns about plain httpx, and warnings are errors.
    app = Starlette(routes=static_routes(static_dir))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
def asset_dir(tmp_path: Path) -> Path:
    for asset in ASSETS:
        (tmp_path / asset.file).write_text(f"/* fake {asset.package} {asset.path} */\n")
    return tmp_path


def test_assets_available_needs_every_file(asset_dir: Path) -> None:
    assert assets_available(asset_dir)
    (asset_dir / ASSETS[-1].file).unlink()
    assert not assets_available(asset_dir)


def test_page_uses_local_assets_when_present(asset_dir: Path) -> None:
    page = graphiql_page(static_dir=asset_dir)

    for asset in ASSETS:
        assert f'"/-/graphiql/{asset.file}"' in page
        assert asset.integrity in page
    assert "unpkg.com" not in page
    assert "https://" not in page


def test_page_reads_module_static_dir(asset_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphiql, "STATIC_DIR", asset_dir)

    assert assets_available()
    assert "/-/graphiql/graphiql.min.js" in graphiql_page()


def test_page_falls_back_to_cdn_without_assets(tmp_path: Path) -> None:
    page = graphiql_page(static_dir=tmp_path / "missing")

    for asset in ASSETS:
        assert f'"https://unpkg.com/{asset.package}/{asset.path}"' in page
        assert asset.integrity in page
    assert "/-/graphiql/" not in page


def test_page_falls_back_to_cdn_when_an_asset_is_missing(asset_dir: Path) -> None:
    (asset_dir / "graphiql.min.css").unlink()

    page = graphiql_page(static_dir=asset_dir)

    assert "https://unpkg.com/graphiql@3.8.3/graphiql.min.js" in page
    assert "/-/graphiql/" not in page


def test_pins_match_strawberry_graphiql() -> None:
    urls = {asset.cdn_url for asset in ASSETS}

    assert "https://unpkg.com/graphiql@3.8.3/graphiql.min.js" in urls
    assert "https://unpkg.com/react@18.2.0/umd/react.production.min.js" in urls
    assert "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js" in urls
    assert "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js" in urls


def test_page_targets_endpoint_and_enables_headers(tmp_path: Path) -> None:
    page = graphiql_page("/custom/graphql", static_dir=tmp_path)

    assert 'data-endpoint="/custom/graphql"' in page
    assert "url: root.dataset.endpoint" in page
    assert "<title>crmgraph GraphiQL</title>" in page
    assert "isHeadersEditorEnabled: true" in page
    assert "shouldPersistHeaders: true" in page


def test_default_endpoint(tmp_path: Path) -> None:
    assert 'data-endpoint="/api/graphql"' in graphiql_page(static_dir=tmp_path)


def test_endpoint_is_escaped(tmp_path: Path) -> None:
    page = graphiql_page('/x"><script>alert(1)</script>', static_dir=tmp_path)

    assert "<script>alert(1)" not in page
    assert 'data-endpoint="/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


async def test_static_files_are_served_with_content_types(asset_dir: Path) -> None:
    async with _client(asset_dir) as client:
        script = await client.get("/-/graphiql/graphiql.min.js")
        style = await client.get("/-/graphiql/plugin-explorer.css")

    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
    assert script.text == "/* fake graphiql@3.8.3 graphiql.min.js */\n"

    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


async def test_static_routes_read_module_static_dir(
    asset_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphiql, "STATIC_DIR", asset_dir)

    async with _client() as client:
        response = await client.get("/-/graphiql/react.production.min.js")

    assert response.status_code == 200


async def test_unfetched_assets_answer_404(tmp_path: Path) -> None:
    async with _client(tmp_path / "missing") as client:
        response = await client.get("/-/graphiql/graphiql.min.js")

    assert response.status_code == 404


def test_fetch_script_pins_the_same_assets() -> None:
    script = FETCH_SCRIPT.read_text()
    pinned = re.findall(r'^\s*"([^"|]+)\|([^"|]+)\|([^"|]+)\|(sha384-[^"|]+)"$', script, re.M)

    assert pinned == [(a.package, a.path, a.file, a.integrity) for a in ASSETS]
