"""The payload's schema check: jsonschema-rs (the fast path) gives the verdict jsonschema gives."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.certificates.conftest import DCC_DATA

from courrier.certificates import payload as module
from courrier.certificates.payload import certificate_payload, schema_problems

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["2021-02-30", "2021-05-01", "1964", "1964-08", "LU", "XX", "1.3.3", "EU/1/20/1528"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _valid_payloads() -> list[dict[str, Any]]:
    found = []
    for name in ("DGC3", "DGC4", "DGC5", "DGC6", "CO28"):
        found.append(
            json.loads((DCC_DATA / f"common/2DCode/raw/{name}.json").read_text(encoding="utf-8"))["JSON"]
        )
    return found


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _agree(candidate: Any) -> None:
    reference = not list(module._validator().iter_errors(candidate))
    assert module._fast_validator().is_valid(candidate) is reference, candidate


@pytest.mark.parametrize("index", range(5))
def test_the_two_agree_on_official_payloads(index: int):
    _agree(_valid_payloads()[index])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_two_agree_on_mutated_payloads(data: st.DataObject):
    base = copy.deepcopy(data.draw(st.sampled_from(_valid_payloads())))
    path = data.draw(st.sampled_from(_paths(base)[1:]))
    parent = base
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(JSON_VALUES)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=4))] = data.draw(JSON_VALUES)
    _agree(base)


def test_a_refused_payload_is_explained(record):
    payload = certificate_payload(record, "URN:UVCI:01:LU:DCC/X#Q")
    payload["v"][0]["dn"] = 0
    (problem,) = schema_problems(payload)
    assert problem.startswith("v/0/dn: ")
