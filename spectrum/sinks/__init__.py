"""Where results go besides events: the waterfall kept for plots and HDF5 captures, and its PNG."""
