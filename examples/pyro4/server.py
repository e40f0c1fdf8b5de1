# The seed's Pyro4 server: a Python daemon exposing process_data. weft
# serves the same method with `weft serve --pyro --plugin
# weft_pyro4_plugin.so`; bench/pyro4 compares the two.
#
#   /usr/bin/python3 examples/pyro4/server.py [PORT]
import sys

import Pyro4


@Pyro4.expose
class DataProcessor(object):
    def process_data(self, data):
        return "Processed data: " + data


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    daemon = Pyro4.Daemon(host="127.0.0.1", port=port)
    uri = daemon.register(DataProcessor(), "obj_1234")
    print("URI:", uri, flush=True)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
