#!/bin/sh
# Run a command in a fresh network namespace with only the loopback interface
# up (Jupyter kernels talk to their client over 127.0.0.1): the command can
# reach nothing outside this machine. Used by the Makefile as
#   unshare -n sh tests/offline.sh COMMAND...
set -e
ip link set lo up
exec "$@"
