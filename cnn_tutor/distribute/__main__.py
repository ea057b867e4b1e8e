"""One worker of :func:`cnn_tutor.distribute.run_local_workers`: ``python -m cnn_tutor.distribute SPEC.json``."""

import sys

from cnn_tutor.distribute import _workers

if __name__ == "__main__":
    _workers._main(sys.argv[1:])
