"""Fixtures of the SQL on FHIR compiler tests: one small local Spark session for all of them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One ``local[2]`` Spark session (no UI, 2 shuffle partitions), skipped without Java."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed (CI installs default-jre-headless)")
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[bulk]')")
    from clotsafe.fhir.sof import spark_session

    session = spark_session("local[2]", "clotsafe-sof-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
