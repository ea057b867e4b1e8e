"""``python -m cnn_tutor.bench``: run the benchmark (see :mod:`cnn_tutor.bench`)."""

import sys

from cnn_tutor.bench import main

if __name__ == "__main__":
    sys.exit(main())
