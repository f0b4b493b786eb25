"""Publishing lessons as web apps: Voila with dangxiao's gallery, template and kernel limits.

`dangxiao serve` is the entry point; `serve(settings)` runs the server in this process.
"""
from __future__ import annotations

from dangxiao.publishing.settings import ServeSettings, default_max_kernels, voila_config

__all__ = ["ServeSettings", "default_max_kernels", "voila_config", "serve"]


def serve(settings: ServeSettings) -> int:
    """Run the gallery until interrupted (blocking)."""
    from dangxiao.catalog import load_catalog
    from dangxiao.publishing.app import DangxiaoVoila
    from dangxiao.publishing.settings import register_template_path

    catalog = load_catalog(settings.courses)
    config = voila_config(settings, catalog)
    register_template_path()
    app = DangxiaoVoila(config=config)
    app.initialize([])
    app.start()
    return 0
