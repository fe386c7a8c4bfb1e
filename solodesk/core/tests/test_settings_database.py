"""DATABASE_CONN_MAX_AGE: how long a web thread keeps its database connection (the settings
are read once per process, so each case imports them in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

READ = "from solodesk.config.settings import base; print(base.DATABASES['default']['CONN_MAX_AGE'])"


def _settings(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_CONN_MAX_AGE", "DATABASE_URL")
    }
    environ |= {"SECRET_KEY": "x", "SOLODESK_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", READ], env=environ, capture_output=True, text=True, timeout=60
    )


def test_ten_minutes_by_default_and_what_the_variable_says(tmp_path):
    assert _settings(tmp_path).stdout.strip() == "600"
    assert _settings(tmp_path, DATABASE_CONN_MAX_AGE="30").stdout.strip() == "30"
    assert _settings(tmp_path, DATABASE_CONN_MAX_AGE="0").stdout.strip() == "0"


@pytest.mark.parametrize("value", ["ten", "1.5", "-1"])
def test_a_bad_value_stops_with_a_clear_message(tmp_path, value):
    result = _settings(tmp_path, DATABASE_CONN_MAX_AGE=value)

    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE must be" in result.stderr
