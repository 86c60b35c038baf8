"""The Flask app: the factory, which makes it from the settings and registers every page's
blueprint and the hooks every request passes through. Importing it opens nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from .. import settings as settings_mod
from . import (assets, batch_search, compare, downloads, errors, feeds, fresh, guard,
               record_page, search_page, status_page, workspace_page)
from .compress import compress
from .headers import relative_redirects, security_headers
from .limits import long_request_line
from .params import readable_query_string, start_clock
from .rendering import template_helpers

# Inside the package (links to the repository's top-level folders in a checkout, copies in
# a wheel), so an installed searchapp serves its pages from wherever it is installed.
PACKAGE = Path(__file__).resolve().parents[1]

# One blueprint per page (its routes, and the errors it says in place); errors last, the
# app-wide answer to whatever a page does not say itself.
BLUEPRINTS = (search_page.bp, record_page.bp, status_page.bp, compare.bp, batch_search.bp,
              downloads.bp, feeds.bp, fresh.bp, assets.bp, workspace_page.bp, errors.bp)


def create_app(config: settings_mod.Settings | Mapping[str, Any] | None = None) -> Flask:
    """Make the app from settings (defaults < config file < environment < `config`, or the
    resolved `Settings` the command line passes); opens nothing."""
    app = Flask("searchapp", template_folder=str(PACKAGE / "templates"),
                static_folder=str(PACKAGE / "static"), static_url_path="/static")
    cfg = config if isinstance(config, settings_mod.Settings) else settings_mod.load(config)
    app.config["SEARCHAPP"] = cfg
    app.debug = cfg.debug
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    guard.init_app(app)  # the workspace's routes: POST, this site, this session's token
    app.context_processor(template_helpers)
    app.before_request(long_request_line)
    app.before_request(start_clock)
    app.before_request(readable_query_string)
    app.after_request(compress)  # registered first, run last: on the response as it leaves
    app.after_request(relative_redirects)
    app.after_request(security_headers)
    return app
