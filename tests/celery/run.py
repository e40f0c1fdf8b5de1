"""Runs the Celery suite with pytest, or skips it (exit 77) with the reason
when a piece is missing: RabbitMQ, the Celery client, root, AMQP support."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def why_skip(weft):
    import rabbit
    why = rabbit.missing()
    if why:
        return why
    try:
        import celery  # noqa: F401
        import kombu  # noqa: F401
        import pytest  # noqa: F401
    except ImportError as e:
        return "the Celery client is missing (%s): apt-get install " \
               "python3-celery python3-kombu python3-pytest" % e
    out = subprocess.run([weft, "worker", "--broker", "x://"],
                         capture_output=True, text=True, timeout=30)
    if "without librabbitmq" in out.stderr:
        return "weft was built without librabbitmq (apt-get install " \
               "librabbitmq-dev and rebuild)"
    return None


def main():
    weft = os.environ["WEFT"]
    why = why_skip(weft)
    if why:
        print("SKIP celery suite:", why)
        return 77
    import pytest
    return pytest.main(["-q", "-p", "no:cacheprovider", "-x",
                        "-W", "ignore::DeprecationWarning",
                        "--rootdir", HERE, HERE] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
