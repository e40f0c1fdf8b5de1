# The seed's client: one task through the broker, its result back.
#   weft worker &          # or: celery -A celery_app worker
#   python3 client.py      # Task result: 10
from celery_app import add

result = add.delay(4, 6)
print(f"Task result: {result.get()}")
