"""courrier: population register to individualised, presorted, print-ready letters.

The package is a library; `courrier.cli` is a thin click layer over it.
"""

__version__ = "0.1.0"
