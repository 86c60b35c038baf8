"""searchapp: full-text search over news-article seed files, with a live web UI.

`create_app` is here so `flask --app searchapp run` finds it; Flask is imported only
when an app is made, so the indexing and search modules never load it.
"""


def create_app(config=None):
    """Build the Flask app (see searchapp.web.create_app)."""
    from .web import create_app as _create_app

    return _create_app(config)
