"""Token buckets per client: how often one address may ask for something costly.

A bucket holds up to `burst` tokens and gains `per_minute` / 60 of one a second; a request takes a
token, and with none left the answer is how long until one is back (the 429's Retry-After). A token
bucket is nginx's `limit_req` with `burst` and no delay: a client may catch up after a quiet spell,
but never go faster than the rate for long.

Buckets live in the worker process, like the connection caps (runtime/connections.py): with
WEB_CONCURRENCY workers one address may get up to that many times each rate. Memory stays bounded:
a bucket that has filled up again is the same as no bucket, so the least recently used ones are
forgotten as soon as they are full, and past `max_keys` the least recently used one is forgotten
whatever it holds (that client gets a fresh burst, the price of a bound).
"""
import math
import threading
from collections import OrderedDict

MAX_KEYS = 50_000  # about 13 MB of buckets at most, per limit and worker


class TokenBuckets:
    def __init__(self, per_minute, burst, clock, max_keys=MAX_KEYS):
        """`per_minute` 0 means no limit; `clock` gives seconds (the app's clock, so tests move it)."""
        self.per_minute, self.burst = per_minute, max(burst, 1)
        self.rate = per_minute / 60
        self.clock, self.max_keys = clock, max_keys
        self.buckets = OrderedDict()  # key: (tokens, when counted), least recently used first
        self.lock = threading.Lock()  # Flask answers on several threads per worker

    def take(self, key):
        """Take one of `key`'s tokens: 0 when there was one, else the whole seconds until one is back."""
        if not self.rate:
            return 0
        now = self.clock()
        with self.lock:
            self.forget_full(now)
            tokens = self.level(self.buckets.pop(key, None), now)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                if len(self.buckets) > self.max_keys:
                    self.buckets.popitem(last=False)
                return 0
            self.buckets[key] = (tokens, now)
            # Less a hair, so that float error (59 s × 1/60 a second) does not add a whole second.
            return max(math.ceil((1 - tokens) / self.rate - 1e-6), 1)

    def level(self, bucket, now):
        if bucket is None:
            return self.burst
        tokens, then = bucket
        # max(): a clock set back (NTP, a test) must not drain a bucket.
        return min(self.burst, tokens + max(now - then, 0) * self.rate)

    def forget_full(self, now):
        """Drop the least recently used buckets while they are full again: each take looks at the
        oldest few only, so forgetting costs nothing in the common case."""
        while self.buckets:
            key, bucket = next(iter(self.buckets.items()))
            if self.level(bucket, now) < self.burst:
                return
            del self.buckets[key]
