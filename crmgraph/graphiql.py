"""GraphiQL for browsers, served from our own origin when its assets have been fetched.

``scripts/fetch-graphiql.sh`` downloads the assets into :data:`STATIC_DIR`; without them the
page falls back to the CDN that strawberry's own GraphiQL page uses, with the same pins.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR: Path = Path(__file__).resolve().parent / "static" / "graphiql"
MOUNT_PATH = "/-/graphiql"
CDN_BASE = "https://unpkg.com"
TITLE = "crmgraph GraphiQL"


@dataclass(frozen=True)
class Asset:
    """One browser file of an npm package, pinned by version and SRI digest."""

    package: str
    path: str
    file: str
    integrity: str

    @property
    def cdn_url(self) -> str:
        return f"{CDN_BASE}/{self.package}/{self.path}"

    @property
    def local_url(self) -> str:
        return f"{MOUNT_PATH}/{self.file}"

    @property
    def is_stylesheet(self) -> bool:
        return self.file.endswith(".css")


# The pins and digests of strawberry-graphql 0.341.2's graphiql.html, so the offline page
# behaves like the stock one; scripts/fetch-graphiql.sh must list the same assets.
# Scripts are in load order: the explorer plugin reads the React and GraphiQL globals.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "react@18.2.0",
        "umd/react.production.min.js",
        "react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom@18.2.0",
        "umd/react-dom.production.min.js",
        "react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql@3.8.3",
        "graphiql.min.css",
        "graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "graphiql@3.8.3",
        "graphiql.min.js",
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "@graphiql/plugin-explorer@1.0.2",
        "dist/style.css",
        "plugin-explorer.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Asset(
        "@graphiql/plugin-explorer@1.0.2",
        "dist/index.umd.js",
        "plugin-explorer.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)

_STYLE = """\
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; display: flex; }
      .docExplorerHide { display: none; }
      .doc-explorer-contents { overflow-y: hidden !important; }
      .docExplorerWrap { width: unset !important; min-width: unset !important; }
      .graphiql-explorer-actions select { margin-left: 4px; }"""

# Reads the endpoint from a data attribute so that no request data is ever spliced into JS.
_BOOT_SCRIPT = """\
      const root = document.getElementById("graphiql");
      const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
      const explorer = GraphiQLPluginExplorer.explorerPlugin();
      const defaultQuery = [
        "# crmgraph GraphiQL",
        "#",
        "# To act as a user, open the Headers tab below and paste",
        '#   {"Authorization": "Bearer <token>"}',
        "# GraphiQL keeps the headers in this browser's local storage.",
        "",
      ].join("\\n");
      ReactDOM.createRoot(root).render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          plugins: [explorer],
          defaultQuery: defaultQuery,
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          inputValueDeprecation: true,
        }),
      );"""


def _static_dir(static_dir: Path | None) -> Path:
    # Looked up at call time so tests can monkeypatch STATIC_DIR.
    return STATIC_DIR if static_dir is None else static_dir


def assets_available(static_dir: Path | None = None) -> bool:
    """Whether every asset the page needs is present in ``static_dir`` (default STATIC_DIR)."""
    directory = _static_dir(static_dir)
    return all((directory / asset.file).is_file() for asset in ASSETS)


def _tag(asset: Asset, *, local: bool) -> str:
    url = html.escape(asset.local_url if local else asset.cdn_url)
    # SRI on local files too: a stale or tampered copy is refused instead of half-working.
    # CDN responses need CORS mode for SRI, hence crossorigin there.
    attrs = f'integrity="{asset.integrity}"' + ("" if local else " crossorigin")
    if asset.is_stylesheet:
        return f'    <link rel="stylesheet" href="{url}" {attrs} />'
    return f'    <script src="{url}" {attrs}></script>'


def graphiql_page(endpoint: str = "/api/graphql", *, static_dir: Path | None = None) -> str:
    """The GraphiQL HTML page sending requests to ``endpoint``.

    Assets come from ``/-/graphiql/`` when :func:`assets_available`, otherwise from unpkg.
    """
    local = assets_available(static_dir)
    styles = "\n".join(_tag(a, local=local) for a in ASSETS if a.is_stylesheet)
    scripts = "\n".join(_tag(a, local=local) for a in ASSETS if not a.is_stylesheet)
    return f"""\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{html.escape(TITLE)}</title>
    <style>
{_STYLE}
    </style>
{styles}
  </head>
  <body>
    <div id="graphiql" class="graphiql-container" data-endpoint="{html.escape(endpoint)}">
      Loading...
    </div>
{scripts}
    <script>
{_BOOT_SCRIPT}
    </script>
  </body>
</html>
"""


class _AssetFiles(StaticFiles):
    """StaticFiles that answers 404, not a 500 RuntimeError, while the assets are not fetched."""

    async def check_config(self) -> None:
        if self.directory is not None and await anyio.Path(self.directory).is_dir():
            await super().check_config()


def static_routes(static_dir: Path | None = None) -> list[BaseRoute]:
    """Routes serving the fetched assets under ``/-/graphiql/``."""
    directory = _static_dir(static_dir)
    files = _AssetFiles(directory=directory, check_dir=False)
    return [Mount(MOUNT_PATH, app=files, name="graphiql-assets")]
