"""release/verify.sh's Python application: takes release/verify from the server at argv[1]."""
import sys

import holdfast

# The installed wheel, not a checkout: the package must come from the virtual environment.
if not holdfast.__file__.startswith(sys.prefix):
    sys.exit("python: holdfast was imported from %s, not from the venv" % holdfast.__file__)

with holdfast.Client([sys.argv[1]], client_name="release-verify") as client:
    with client.lock("release/verify", wait=30) as lease:
        print("python: holding release/verify with fencing token %d" % lease.fencing_token)
