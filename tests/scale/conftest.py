"""Spark fixtures: one local session for the whole run, one small synthetic region cut into buckets once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from yibao.payment.backends import spark_backend

    return spark_backend()


@pytest.fixture(scope="session")
def region(tmp_path_factory):
    """A synthetic year of 1 500 persons (2024) with their claim lines."""
    from yibao.synth.config import SynthConfig
    from yibao.synth.generate import generate

    folder = tmp_path_factory.mktemp("region")
    generate(SynthConfig(persons=1500, year=2024, seed=11), folder)
    return folder


@pytest.fixture(scope="session")
def buckets(spark, region, tmp_path_factory):
    from yibao.scale.partition import partition_lake

    return partition_lake(spark.session, region, tmp_path_factory.mktemp("work") / "buckets", 3)


@pytest.fixture(scope="session")
def statements(spark, buckets):
    """The region settled on Spark, collected (one row per claim)."""
    from yibao.scale.settle import settle_on_spark

    return settle_on_spark(spark.session, buckets, "demo").toArrow().to_pandas()


@pytest.fixture(scope="session")
def local_statements(region):
    """The region settled by the local engine."""
    from yibao.settlement.batch import settle_lake

    return settle_lake(region, "demo")[0]
