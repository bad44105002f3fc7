"""The application object builds each part once, on first use, and closes them all."""

from __future__ import annotations

import pytest

from courrier.app import App
from courrier.config import load_settings
from courrier.errors import ConfigError


def test_the_app_builds_its_engine_and_keys_once_and_only_when_asked(db_url, tmp_path):
    settings = load_settings({"COURRIER_DATABASE_URL": db_url, "COURRIER_KEY_FILE": str(tmp_path / "none")})
    with App(settings) as app:
        assert "engine" not in vars(app)
        assert "dask_client" not in vars(app)
        assert app.engine is app.engine
        with app.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        with pytest.raises(ConfigError):
            app.keys  # noqa: B018 - no key file: a one-line error, only when keys are needed


def test_the_app_holds_one_local_cluster_until_it_closes(tmp_path):
    settings = load_settings({"COURRIER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    app = App(settings, workers=1)
    client = app.dask_client
    assert app.dask_client is client
    assert len(client.scheduler_info()["workers"]) == 1
    app.close()
    assert client.status == "closed"
