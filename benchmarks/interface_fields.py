"""Time the interface field layer on the messages the service reads most.

    python benchmarks/interface_fields.py [--repeat 2000]

Parses a 2207 门诊结算 input and a 2204 upload of 20 fee lines (valid messages built from the spec by
``yibao.api.example_input``, numbers sent as strings the way HIS clients send them), renders a 2207
output, and prints the best and median time per call over several rounds. Prints the figures;
asserts nothing. The budget the service was designed to: well under 0.2 ms for 2207, 2 ms for 2204.
"""

from __future__ import annotations

import argparse
import statistics
import time

from yibao.api import example_input, example_output, parse_input, render_output
from yibao.console import new_console


def per_call_ms(call, repeat: int, rounds: int = 7) -> tuple[float, float]:
    call()  # load the spec once, outside the timing
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        times.append((time.perf_counter() - start) / repeat * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    settle_in = example_input("2207")
    upload = example_input("2204", rows=20)
    settle_out = example_output("2207")
    cases = [
        ("parse_input 2207 (1 record, 20 fields)", lambda: parse_input("2207", settle_in), args.repeat),
        ("parse_input 2204 (20 lines, 34 fields each)", lambda: parse_input("2204", upload), max(args.repeat // 20, 1)),
        ("render_output 2207 (setlinfo 43 fields)", lambda: render_output("2207", settle_out), args.repeat),
    ]
    from rich.table import Table

    table = Table(title="interface field layer, ms per call")
    for column in ("message", "best ms", "median ms", "calls per round"):
        table.add_column(column, justify="left" if column == "message" else "right")
    for name, call, repeat in cases:
        best, median = per_call_ms(call, repeat)
        table.add_row(name, f"{best:.4f}", f"{median:.4f}", str(repeat))
    new_console().print(table)


if __name__ == "__main__":
    main()
