# The seed's Pyro4 client, unchanged but for taking the URI from the
# command line (the seed hard-wired "PYRO:obj_1234@localhost:9090").
#
#   /usr/bin/python3 examples/pyro4/client.py PYRO:weft@127.0.0.1:9090
import sys

import Pyro4

uri = sys.argv[1] if len(sys.argv) > 1 else "PYRO:obj_1234@localhost:9090"
remote = Pyro4.Proxy(uri)
print(remote.process_data("Input Data"))
