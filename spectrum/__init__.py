"""spectrum: find radio jamming and interference in RTL-SDR streams and IQ captures.

Importing the package stays light (no numba, scipy or pyrtlsdr); the DSP loads with the
commands that need it.
"""

__version__ = "0.1.0"
