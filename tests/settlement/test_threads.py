"""A server calls the engine from many threads: settling from 8 threads at once gives the fen that
one thread gives, for real time and batch, with a fresh pack whose plans and kinds are built
concurrently."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from yibao.policy import load_pack
from yibao.settlement import settle, settle_frame
from yibao.settlement.synthetic import claims_frames, random_claims, restricted_catalog


def test_eight_threads_settle_as_one():
    claims = random_claims(random.Random(11), n_persons=40, max_claims=4, year=2025,
                           item_codes=list(restricted_catalog()["item_code"]))
    catalog = restricted_catalog()
    expected = [settle(c, load_pack("zibo"), catalog).setlinfo for c in claims]
    fresh = load_pack("zibo").reform({}, name="zibo+threads")  # no plan or kind resolved yet

    def one(i: int):
        return [settle(c, fresh, catalog).setlinfo for c in claims[i::8]]

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(one, range(8)))
    for i, part in enumerate(got):
        assert part == expected[i::8]
    frame, lines = claims_frames(claims)
    first = settle_frame(frame, lines, fresh, catalog)
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: settle_frame(frame, lines, fresh, catalog), range(8)))
    for b in batches:
        assert b.equals(first)
