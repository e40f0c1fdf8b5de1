# The seed's Celery app, unchanged but for one thing: the broker URL may come
# from the environment (CELERY_BROKER_URL, which Celery itself reads first).
# `weft worker` runs `add` with weft's built-in add, on all cores.
from celery import Celery

app = Celery('celery_app', broker='pyamqp://guest@localhost//', backend='rpc://')


@app.task
def add(x, y):
    return x + y
