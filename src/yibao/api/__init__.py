"""The national designated-institution interface (定点医药机构接口, the ``infno`` envelope).

The field layer (``fields``) turns the JSON a HIS sends into typed values and a handler's values back
into the spec's output; see ``README.md`` in this folder.
"""

from yibao.api.errors import InterfaceError
from yibao.api.examples import example_envelope, example_input, example_output
from yibao.api.fields import (
    MAX_ROWS, Parsed, dumps_output, parse_envelope, parse_input, render_output, served_transactions,
    transaction_spec,
)

__all__ = [
    "InterfaceError", "MAX_ROWS", "Parsed", "dumps_output", "example_envelope", "example_input", "example_output",
    "parse_envelope", "parse_input", "render_output", "served_transactions", "transaction_spec",
]
