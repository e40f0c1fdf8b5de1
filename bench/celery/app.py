# The benchmark's Celery app: the seed's add, for the Python workers.
from celery import Celery

app = Celery('app', broker='pyamqp://guest@localhost//', backend='rpc://')


@app.task
def add(x, y):
    return x + y
