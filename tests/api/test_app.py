"""The HTTP face runs at most ``threads`` messages of a worker at once; the others wait their turn."""

import asyncio
import threading
import time

import httpx

from yibao.api.app import PATH, create_app


class _Slow:
    """A stand-in service that notes how many messages it runs at the same time."""

    def __init__(self):
        self.now = self.most = 0
        self.lock = threading.Lock()

    def handle(self, body, headers):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        return '{"infcode":0}'


def _post_many(app, n: int) -> list[int]:
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            answers = await asyncio.gather(*(client.post(PATH, content=b"{}") for _ in range(n)))
        return [a.status_code for a in answers]
    return asyncio.run(go())


def test_a_worker_runs_at_most_its_threads_at_once():
    service = _Slow()
    assert _post_many(create_app(service, threads=2), 8) == [200] * 8
    assert service.most == 2
    wide = _Slow()
    _post_many(create_app(wide, threads=8), 8)
    assert wide.most > 2  # the limit, not the client, held the first app to two
