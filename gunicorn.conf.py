"""gunicorn settings for the public demo (`make serve`); every knob can be set from the environment.

The app is loaded once before forking (preload), and ``on_starting`` compiles (or loads from
numba's cache) every optimizer's kernel in the master, so each worker starts with the opening
race already computed and no request of a fresh worker compiles anything. Workers share
nothing but Redis (CACHE_REDIS_URL), so any of them, on any host, can answer any request.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))  # a 12 × 5,000-step race takes < 1 s
graceful_timeout = 20
keepalive = 5
preload_app = True
# Workers are not recycled (0): their memory is bounded in bytes (service/lru.py, the README's
# "Memory is bounded"), so recycling frees nothing that would otherwise grow, and it emptied
# every worker's caches (pages, results, QR codes) after a flood of 25,000 requests. A number
# recycles each worker after that many requests, jittered by a tenth so they do not go at once.
max_requests = int(os.environ.get("MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("ACCESS_LOG", "-") or None  # "" turns it off (the load bench)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def on_starting(server) -> None:
    """Every kernel compiled or loaded before the workers fork (they inherit it). The cache
    directory is chosen by common/jit.py: safe for several workers, and copied to a writable
    place from a read-only install."""
    from optimizers.warm import warm

    server.log.info("engine kernels ready in %.1f s", warm(server.log.info))
