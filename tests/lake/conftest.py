"""A lake of three parts, shared by the tests of reading a lake part by part."""

from __future__ import annotations

import pytest

from yibao.synth import SynthConfig, generate


@pytest.fixture(scope="package")
def lake(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    generate(SynthConfig(persons=12_000, seed=9, chunk_persons=5_000, with_lines=True), folder)  # 3 parts
    return folder
