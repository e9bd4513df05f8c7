"""custkit: customer-base research kit for online stores.

Analysts use it from JupyterLab (``import custkit as ck``); the monthly HTML reports in
``notebooks/`` are thin layers over the functions here.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("custkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
